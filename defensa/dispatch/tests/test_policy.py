"""A committee's dispatch policy: set on a page, refused when it could not work, and followed
by the offering and widening code (docs/setup.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.dispatch.actions import escalate_offers, offer_to_nearest, policy_for
from defensa.dispatch.models import DispatchPolicy, Offer, Reach
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.evidence.models import PublicPage

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
GOOD = {"offer_size": "4", "accept_target": "2", "escalate_minutes": "7", "reach": "neighbours"}


def _rows() -> list[tuple]:
    return list(
        DispatchPolicy.objects.values_list(
            "committee_id", "offer_size", "accept_target", "escalate_minutes", "reach"
        )
    )


def test_the_page_shows_the_defaults_then_saves_the_committees_own(net, client_as, settings):
    settings.DISPATCH_OFFER_SIZE = 3
    client = client_as(net.ana)  # coordinator of Boyle Heights
    page = client.get("/network/boyle-heights/policy/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="defaults"' in html and 'value="3"' in html
    assert "Off: the public page" in html and "/committees/boyle-heights/public-page/" in html
    response = client.post("/network/boyle-heights/policy/", GOOD)
    assert response.status_code == 302
    assert _rows() == [(net.boyle.pk, 4, 2, 7, "neighbours")]
    assert policy_for(net.boyle).offer_size == 4
    (entry,) = AuditEntry.objects.filter(action="dispatch.policy_set")
    assert entry.actor_id == net.ana.pk and entry.committee_id == net.boyle.pk
    assert entry.data["reach"] == "neighbours"
    assert 'id="defaults"' not in client.get("/network/boyle-heights/policy/").content.decode()


def test_the_public_page_switch_is_shown_as_it_is(net, client_as):
    PublicPage.objects.create(committee=net.boyle, show_verified=True)
    html = client_as(net.admin).get("/network/boyle-heights/policy/").content.decode()
    assert "On: the public page" in html
    # The admin is no coordinator of Boyle Heights: the switch belongs to its coordinators.
    assert "/public-page/" not in html


def test_only_admins_and_coordinators_above_set_a_policy(net, client_as):
    assert client_as(net.admin).get("/network/east-la/policy/").status_code == 200
    assert client_as(net.ana).get("/network/east-la/policy/").status_code == 404
    assert client_as(net.dani).get("/network/boyle-heights/policy/").status_code == 404
    assert client_as(net.dani).post("/network/boyle-heights/policy/", GOOD).status_code == 404
    assert _rows() == []


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("offer_size", "0", "Offer it to at least one verifier."),
        ("accept_target", "0", "At least one verifier must accept."),
        ("escalate_minutes", "0", "Wait at least one minute before widening."),
        ("offer_size", "-3", "Offer it to at least one verifier."),
        ("accept_target", "5", "as many verifiers as the acceptances you want"),
        ("offer_size", "many", "Enter a whole number."),
        ("reach", "the moon", "Select a valid choice."),
        ("escalate_minutes", "", "This field is required."),
    ],
)
def test_a_policy_that_cannot_work_is_refused(net, client_as, field, value, error):
    DispatchPolicy.objects.create(
        committee=net.boyle, offer_size=3, accept_target=1, escalate_minutes=5
    )
    before = _rows()
    response = client_as(net.ana).post("/network/boyle-heights/policy/", {**GOOD, field: value})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert _rows() == before
    assert not AuditEntry.objects.filter(action="dispatch.policy_set").exists()


def test_zero_verifiers_is_refused_in_spanish(net, client_as):
    client = client_as(net.ana)
    response = client.post(
        "/network/boyle-heights/policy/", {**GOOD, "offer_size": "0"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400
    assert "Ofrécelo al menos a un(a) verificador(a)." in response.content.decode()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(sorted(GOOD)), st.text(max_size=30)))
def test_no_input_makes_a_500(net, client_as, data):
    response = client_as(net.ana).post(
        "/network/boyle-heights/policy/", {k: v.replace("\x00", "") for k, v in data.items()}
    )
    assert response.status_code in (302, 400)


# The policy in use ----------------------------------------------------------------------


@pytest.fixture
def quiet(net):  # type: ignore[no-untyped-def]
    net.vero.on_duty = False
    net.vero.save()


def test_the_first_round_asks_as_many_as_the_policy_says(net, quiet):
    for i in range(4):
        verifier(f"v{i}", net.boyle)
    DispatchPolicy.objects.create(
        committee=net.boyle, offer_size=3, accept_target=1, escalate_minutes=5
    )
    assert len(offer_to_nearest(report_incident(), actor=net.dani)) == 3


@pytest.mark.parametrize(
    ("reach", "second_round"),
    [(Reach.RINGS, set()), (Reach.NEIGHBOURS, {"east"}), (Reach.NEXT_TIER, {"city"})],
)
def test_widening_goes_as_far_as_the_policy_reaches(net, quiet, reach, second_round):
    verifier("own", net.boyle)
    people = {"east": verifier("east", net.east), "city": verifier("city", net.city)}
    DispatchPolicy.objects.create(
        committee=net.boyle, offer_size=1, accept_target=1, escalate_minutes=5, reach=reach
    )
    incident = report_incident()
    t0 = timezone.now()
    first = offer_to_nearest(incident, actor=net.dani, now=t0)
    assert [o.responder.display_name for o in first] == ["Own"]  # round 1: own committee only
    assert escalate_offers(now=t0 + 5 * MIN) == 1
    asked = {o.responder_id for o in Offer.objects.filter(incident=incident, tier=2)}
    assert asked == {people[name].pk for name in second_round}
