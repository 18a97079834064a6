"""Bad input never makes a 500 or a partial row (property 19), and keyword routing."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.notify import inbound
from defensa.pledges import sms
from defensa.pledges.models import Pledge
from defensa.pledges.tests.helpers import open_campaign, text
from defensa.pledges.views import pledge_gate
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db

FUZZ = hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(phone=st.text(max_size=40))
def test_any_phone_field_is_a_clear_answer(net, phone):
    pledge_gate.reset()  # one test, many examples: each starts with a fresh flood gate
    campaign = open_campaign(net.boyle, net.ana)
    response = Client().post(f"/pledges/p/{campaign.code}/", {"phone": phone})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Pledge.objects.filter(campaign=campaign).count() == 0


@FUZZ
@given(rest=st.text(max_size=80))
def test_any_text_after_the_keyword_is_answered_without_a_crash(net, rest):
    campaign = open_campaign(net.boyle, net.ana)
    response = text(Client(), f"PLEDGE {rest}", number="+13235550142")
    assert response.status_code == 200
    assert Report.objects.count() == 0
    assert Pledge.objects.filter(campaign=campaign).count() <= 1


def test_claimed_keywords_reach_only_their_handler(net):
    assert inbound._KEYWORDS["PROMESA"] is sms.handle_text
    with pytest.raises(ValueError, match="already claimed"):
        inbound.register_keyword(["PLEDGE"], lambda text: None)
    # Registering the same handler again is harmless (AppConfig.ready may run twice).
    inbound.register_keyword(["PLEDGE"], sms.handle_text)
    # Any other text still goes to every general handler: it becomes a report.
    text(Client(), "ICE agents at 5th and Main", number="+13235550142")
    assert Report.objects.count() == 1
    assert inbound.first_word("  promesa, K7Q2MX") == "PROMESA"
