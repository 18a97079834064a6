"""Bad input never makes a 500 or a partial row (property 19): the form, the code, the texts."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.notify.models import Delivery
from defensa.reports.models import Report
from defensa.subscribers import sms, views
from defensa.subscribers.models import Subscription
from defensa.subscribers.tests.helpers import text

pytestmark = pytest.mark.django_db

FUZZ = hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(phone=st.text(max_size=40), zip_code=st.text(max_size=12), language=st.text(max_size=4))
def test_any_form_input_is_a_clear_answer(net, phone, zip_code, language):
    views.gate.reset()  # one test, many examples: each starts with a fresh flood gate
    before = Subscription.objects.count()
    response = Client().post(
        "/alerts/subscribe/", {"phone": phone, "zip_code": zip_code, "language": language}
    )
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert Subscription.objects.count() == before
        assert "errorlist" in response.content.decode() or "error-summary" in (
            response.content.decode()
        )


@FUZZ
@given(ticket=st.text(max_size=120), code=st.text(max_size=12))
def test_any_code_post_is_a_clear_answer(net, ticket, code):
    views.gate.reset()
    response = Client().post("/alerts/subscribe/confirm/", {"ticket": ticket, "code": code})
    assert response.status_code == 400
    assert not Subscription.objects.filter(confirmed_at__isnull=False).exists()


@FUZZ
@given(rest=st.text(max_size=40))
def test_any_text_after_the_keyword_is_answered_or_becomes_a_report(net, rest):
    sms.answers.reset()
    reports = Report.objects.count()
    replies = Delivery.objects.filter(template="subscriber_reply").count()
    response = text(Client(), f"ALERTA {rest}", number="+13235550142")
    assert response.status_code == 200
    ours = sms.ours(f"ALERTA {rest}")
    if ours:
        assert Report.objects.count() == reports
        assert Subscription.objects.count() <= 1
    # One answer at most, and only to a text that was ours.
    answered = Delivery.objects.filter(template="subscriber_reply").count() - replies
    assert answered <= (1 if ours else 0)
