"""Opening a campaign: coordinators only, every rule checked, bad input stores nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.pledges.models import Campaign

pytestmark = pytest.mark.django_db


def form(**overrides):  # type: ignore[no-untyped-def]
    tomorrow = timezone.localdate() + dt.timedelta(days=2)
    values = {
        "title_en": "Walk out Monday",
        "title_es": "Paro el lunes",
        "text_en": "I will walk out if 65% of us pledge.",
        "text_es": "Paro si el 65% lo promete.",
        "scope": "committee",
        "threshold_kind": "percent",
        "threshold": "65",
        "eligible_count": "200",
        "eligible_source": "the union roll, March",
        "deadline_date": tomorrow.isoformat(),
        "deadline_time": "17:00",
        "require_confirmation": "on",
    }
    values.update(overrides)
    return values


def test_a_coordinator_opens_a_percentage_campaign(client_as, net):
    client = client_as(net.ana)
    response = client.post("/pledges/new/boyle-heights/", form())
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/pledges/{campaign.pk}/"
    assert campaign.needed == 130  # 65% of 200
    assert campaign.committee == net.boyle
    assert campaign.data_key is not None
    entry = AuditEntry.objects.get(action="pledges.open_campaign")
    assert entry.actor_id == net.ana.pk
    page = client.get(f"/pledges/{campaign.pk}/")
    assert page.status_code == 200
    assert f"/pledges/p/{campaign.code}/" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"threshold": "0"}, "The threshold must be at least 1."),
        ({"threshold": "-4"}, "The threshold must be at least 1."),
        ({"threshold": "101"}, "A percentage cannot be above 100."),
        ({"eligible_count": ""}, "A percentage needs the eligible count."),
        ({"eligible_source": ""}, "Say where the eligible count comes from."),
        (
            {"threshold_kind": "count", "threshold": "250"},
            "The threshold cannot be above the eligible count (200 people).",
        ),
        ({"deadline_date": "2001-01-01"}, "The deadline must be in the future."),
        ({"title_es": ""}, "This field is required."),
        ({"text_es": "a\x07b"}, "Remove the special characters."),
        ({"text_es": "a\x00b"}, "Null characters are not allowed."),
        ({"threshold": "abc"}, "Enter a whole number."),
        ({"scope": "network"}, "Select a valid choice."),
    ],
)
def test_bad_input_gets_a_clear_error_and_stores_nothing(client_as, net, overrides, field_error):
    response = client_as(net.ana).post("/pledges/new/boyle-heights/", form(**overrides))
    assert response.status_code == 200
    assert field_error in response.content.decode().replace("&#x27;", "'")
    assert Campaign.objects.count() == 0
    assert not AuditEntry.objects.filter(action="pledges.open_campaign").exists()


def test_errors_are_in_spanish_for_a_spanish_speaker(client_as, net):
    client = client_as(net.ana)
    client.cookies["django_language"] = "es"
    response = client.post(
        "/pledges/new/boyle-heights/", form(threshold="101"), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert "Un porcentaje no puede pasar de 100." in response.content.decode()
    assert Campaign.objects.count() == 0


def test_only_the_committees_coordinators_open_and_see_campaigns(client_as, net):
    assert client_as(net.mo).get("/pledges/new/boyle-heights/").status_code == 404
    assert client_as(net.mo).get("/pledges/").status_code == 404
    assert client_as(net.omar).post("/pledges/new/boyle-heights/", form()).status_code == 404
    assert Campaign.objects.count() == 0
    client_as(net.ana).post("/pledges/new/boyle-heights/", form())
    campaign = Campaign.objects.get()
    assert client_as(net.omar).get(f"/pledges/{campaign.pk}/").status_code == 404
    assert client_as(net.mo).get(f"/pledges/{campaign.pk}/").status_code == 404


def test_the_network_committee_may_open_a_network_wide_campaign(client_as, net):
    from defensa.core.testing import join

    join(net.admin, net.network, is_coordinator=True)
    response = client_as(net.admin).post(
        "/pledges/new/la/",
        form(
            scope="network",
            threshold_kind="count",
            threshold="5000",
            eligible_count="",
            eligible_source="",
        ),
    )
    assert response.status_code == 302
    assert Campaign.objects.get().scope == "network"


@pytest.mark.parametrize(
    "overrides",
    [
        {"threshold": 0},
        {"threshold": 5, "eligible_count": 4, "eligible_source": "roll"},
        {
            "threshold_kind": "percent",
            "threshold": 101,
            "eligible_count": 10,
            "eligible_source": "x",
        },
        {"threshold_kind": "percent", "threshold": 50},
        {"deadline": timezone.now() - dt.timedelta(minutes=1)},
        {"deadline": timezone.now() + dt.timedelta(days=400)},
        {"scope": "network"},
    ],
)
def test_the_action_checks_the_rules_again(net, overrides):
    from defensa.pledges import actions
    from defensa.pledges.tests.helpers import data

    with pytest.raises(actions.PledgeError):
        actions.open_campaign(net.boyle, data(**overrides), actor=net.ana)
    assert Campaign.objects.count() == 0
    assert not AuditEntry.objects.filter(action="pledges.open_campaign").exists()
