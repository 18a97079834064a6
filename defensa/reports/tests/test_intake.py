"""The intake role: types reports from calls and sees the incidents they went into, without
alert power (no verification, verdicts, alerts, or reporter contact)."""

from __future__ import annotations

import re

import pytest

from defensa.committees import actions as committee_actions
from defensa.committees.models import Membership
from defensa.core.testing import join, make_user
from defensa.dispatch.tests.helpers import report_incident
from defensa.incidents.models import State
from defensa.pages.places import places_for
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db

FORM = "/hotline/new/"
MINE = "/hotline/mine/"


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def ines(net):  # type: ignore[no-untyped-def]
    """A hotline operator with the intake role in Boyle Heights, and nothing else."""
    user = make_user("ines", language="es", phone="+12135550199")
    join(user, net.boyle, is_intake=True)
    return user


def type_call(client, **fields: str):  # type: ignore[no-untyped-def]
    token = token_of(client.get(FORM).content.decode())
    data = {
        "category": "sighting",
        "location_text": "Soto & 1st",
        "zip_code": "90033",
        "language": "es",
        "token": token,
        "contact": "+12135550177",
        **fields,
    }
    return client.post(FORM, data)


def test_intake_types_a_report_and_sees_its_incident_without_contact(client_as, net, ines):
    client = client_as(ines)
    assert type_call(client, description="Two vans").status_code == 200
    report = Report.objects.get()
    assert report.has_contact
    page = client.get(MINE)
    assert page.status_code == 200
    html = page.content.decode()
    assert report.incident.reference in html
    assert "New, not verified" in html  # the state
    # No contact, no report text, no verification controls.
    assert "+12135550177" not in html and "Two vans" not in html
    assert "/verify/" not in html and "/dispatch/" not in html


def test_the_list_holds_only_the_operators_own_calls(client_as, net, ines):
    other = report_incident()  # typed by nobody in particular
    type_call(client_as(ines), zip_code="90022", location_text="Whittier and Atlantic")
    mine = Report.objects.exclude(incident=other).get().incident
    assert mine != other
    html = client_as(ines).get(MINE).content.decode()
    assert mine.reference in html and other.reference not in html
    # A dispatcher's own list does not show the intake operator's calls.
    assert mine.reference not in client_as(net.dani).get(MINE).content.decode()


def test_intake_cannot_verify_confirm_or_open_the_console(client_as, net, ines):
    incident = report_incident()
    client = client_as(ines)
    slug, pk = net.boyle.slug, incident.pk
    assert client.get(f"/dispatch/{slug}/").status_code == 404
    assert client.get(f"/dispatch/{slug}/queue/").status_code == 404
    assert client.post(f"/dispatch/{slug}/{pk}/verify/").status_code == 404
    for verb in ("confirm", "false_alarm", "not_found", "close", "note"):
        response = client.post(f"/dispatch/{slug}/{pk}/{verb}/", {"note": "seen it"})
        assert response.status_code == 404, verb
    assert client.get(f"/incidents/{incident.reference}/record/").status_code == 404
    assert client.get(f"/committees/{slug}/archive/").status_code == 404
    report = incident.reports.get()
    assert client.post(f"/reports/{report.reference}/contact/").status_code == 404
    incident.refresh_from_db()
    assert incident.state == State.NEW


def test_who_may_open_the_operator_pages(client_as, net, ines):
    for person in (net.vero, net.lucia, net.ana, net.mo, net.pat, net.admin):
        client = client_as(person)
        assert client.get(FORM).status_code == 404, person.display_name
        assert client.get(MINE).status_code == 404, person.display_name
    assert client_as(net.dani).get(MINE).status_code == 200
    # Intake counts only for full members, like every role.
    Membership.objects.filter(user=ines).update(status="probation")
    assert client_as(ines).get(FORM).status_code == 404
    assert client_as(ines).get(MINE).status_code == 404


def test_my_page_offers_intake_its_two_places_and_no_console(client_as, net, ines):
    urls = {p.url for s in places_for(ines) for p in s.places}
    assert {FORM, MINE} <= urls
    assert not any(u.startswith("/dispatch/") for u in urls)
    html = client_as(ines).get("/accounts/").content.decode()
    assert f'href="{FORM}"' in html and f'href="{MINE}"' in html


def test_one_coordinator_grants_intake_at_once_and_it_is_audited(client_as, net):
    from defensa.audit.models import AuditEntry

    membership = net.mo.memberships.get()
    response = client_as(net.ana).post(
        f"/committees/{net.boyle.slug}/members/{membership.pk}/roles/", {"is_intake": "on"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_intake and not membership.is_dispatcher
    entry = AuditEntry.objects.filter(action="member.roles_changed").latest("seq")
    assert entry.data["intake"] is True
    assert client_as(net.mo).get(FORM).status_code == 200


def test_intake_is_refused_on_probation(net):
    pat = net.pat.memberships.get()
    with pytest.raises(committee_actions.ActionError):
        committee_actions.change_roles(
            pat,
            actor=net.ana,
            is_dispatcher=False,
            is_legal=False,
            is_coordinator=False,
            is_intake=True,
        )
