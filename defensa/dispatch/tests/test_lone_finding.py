"""One verifier's finding alone does not dismiss an incident several reports support (issue
"Hardening", point 4; the rule is in docs/rapid-response.md).

A lone "false alarm" or "not found" on an incident with more than one report is recorded on
the timeline as a finding; the incident keeps being verified and the console says it waits for
a dispatcher's verdict. On an incident with a single report the finding settles it as before,
and a "confirmed" finding confirms either way.
"""

from __future__ import annotations

import pytest
from django.test import Client

from defensa.audit.models import AuditEntry
from defensa.dispatch import actions
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.incidents.models import Incident, State

pytestmark = pytest.mark.django_db

CONSOLE = "/dispatch/boyle-heights/"


def _on_site(net, reports: int):  # type: ignore[no-untyped-def]
    verifier("alma", net.boyle)
    incident = None
    for _ in range(reports):
        incident = report_incident()
    assert incident is not None and incident.report_count == reports
    [offer] = actions.offer_to_nearest(incident, 1, actor=net.dani)
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    return incident, offer


def _finding(offer, outcome: str) -> int:  # type: ignore[no-untyped-def]
    link = f"/r/{actions.offer_token(offer)}/"
    return Client().post(link, {"step": outcome, "note": "nothing here"}).status_code


@pytest.mark.parametrize("outcome", ["false_alarm", "not_found"])
def test_a_lone_negative_finding_waits_for_the_dispatcher(net, client_as, outcome):
    incident, offer = _on_site(net, reports=3)
    assert _finding(offer, outcome) == 200
    incident.refresh_from_db()
    assert incident.state == State.VERIFYING
    entry = incident.timeline.last()
    assert entry.detail["finding"] == outcome and entry.detail["awaits_dispatcher"] is True
    audit = AuditEntry.objects.filter(action="dispatch.report_finding").get()
    assert audit.data["awaits_dispatcher"] is True
    dani = client_as(net.dani)
    assert "waits for your verdict" in dani.get(f"{CONSOLE}queue/").content.decode()
    page = dani.get(f"{CONSOLE}?incident={incident.pk}").content.decode()
    assert "waits for your verdict" in page and "/not_found/" in page
    # The dispatcher gives the verdict, with a reason.
    verb = outcome
    dani.post(f"{CONSOLE}{incident.pk}/{verb}/", {"note": "called the reporters back"})
    incident.refresh_from_db()
    assert incident.state == (State.FALSE_ALARM if outcome == "false_alarm" else State.NEW)
    assert "waits for your verdict" not in dani.get(f"{CONSOLE}queue/").content.decode()


def test_a_lone_false_alarm_on_a_single_report_settles_it(net):
    incident, offer = _on_site(net, reports=1)
    _finding(offer, "false_alarm")
    incident.refresh_from_db()
    assert incident.state == State.FALSE_ALARM


def test_a_confirmation_on_a_corroborated_incident_confirms(net):
    incident, offer = _on_site(net, reports=2)
    _finding(offer, "confirmed")
    assert Incident.objects.get(pk=incident.pk).state == State.CONFIRMED


def test_not_found_needs_a_reason_like_every_verdict(net, client_as):
    incident, offer = _on_site(net, reports=2)
    _finding(offer, "not_found")
    client_as(net.dani).post(f"{CONSOLE}{incident.pk}/not_found/", {"note": ""})
    incident.refresh_from_db()
    assert incident.state == State.VERIFYING
