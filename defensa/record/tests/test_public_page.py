"""The coordinators' switch for the public page, the console's link to the printable record,
and every opening of the record sealed in the audit chain."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.log import verify_chain
from defensa.audit.models import AuditEntry
from defensa.core.testing import sign_in
from defensa.dispatch.tests.helpers import report_incident
from defensa.evidence.models import PublicPage
from defensa.incidents import actions as incident_actions
from defensa.record.tests.test_record import confirmed_with_evidence

pytestmark = pytest.mark.django_db

PAGE = "/committees/boyle-heights/public-page/"


# The coordinators' switch --------------------------------------------------------------------


def test_a_coordinator_turns_the_public_page_on_and_off_from_the_committee(net, client_as):  # type: ignore[no-untyped-def]
    confirmed = report_incident(text="1234 Secret Street", category="workplace_raid")
    incident_actions.confirm_incident(confirmed, actor=net.dani, note="seen")
    ana = client_as(net.ana)
    detail = ana.get("/committees/boyle-heights/").content.decode()
    assert f'href="{PAGE}"' in detail

    page = ana.get(PAGE).content.decode()
    assert "Off." in page and "What the public sees" in page
    assert "never an address or a point on a map" in page
    # The preview shows what would be public, coarse, before anything is switched on.
    assert "Workplace raid" in page and "90033" in page and "Secret Street" not in page
    assert "Workplace raid" not in Client().get("/verified/").content.decode()

    done = ana.post(PAGE, {"show": "on"}, follow=True)
    assert "now lists this committee" in done.content.decode()
    assert PublicPage.objects.get(committee=net.boyle).show_verified
    assert PublicPage.objects.get(committee=net.boyle).changed_by == net.ana
    assert "Workplace raid" in Client().get("/verified/").content.decode()
    assert "On." in ana.get(PAGE).content.decode()

    ana.post(PAGE, {"show": "off"})
    assert not PublicPage.objects.get(committee=net.boyle).show_verified
    assert "Workplace raid" not in Client().get("/verified/").content.decode()
    entries = AuditEntry.objects.filter(action="evidence.set_public_page").order_by("seq")
    assert [(e.actor_id, e.data["show_verified"]) for e in entries] == [
        (net.ana.pk, True),
        (net.ana.pk, False),
    ]


def test_only_the_committees_coordinators_reach_the_switch(net, client, client_as):  # type: ignore[no-untyped-def]
    for person in (net.dani, net.vero, net.lucia, net.mo, net.pat, net.omar):
        assert client_as(person).get(PAGE).status_code == 404, person
        assert client_as(person).post(PAGE, {"show": "on"}).status_code == 404, person
        client.logout()
    assert client.post(PAGE, {"show": "on"}).status_code in (302, 404)
    assert not PublicPage.objects.filter(show_verified=True).exists()
    assert client_as(net.omar).get("/committees/east-la/public-page/").status_code == 200


@hsettings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=st.one_of(st.text(max_size=50), st.sampled_from(["", "ON", "1", "true", "\x00"])))
def test_any_other_answer_is_refused_and_changes_nothing(net, value):  # type: ignore[no-untyped-def]
    if value in ("on", "off"):
        return
    client = sign_in(Client(), net.ana)
    before = AuditEntry.objects.filter(action="evidence.set_public_page").count()
    response = client.post(PAGE, {"show": value})
    assert response.status_code == 400
    assert "Choose on or off." in response.content.decode()
    assert AuditEntry.objects.filter(action="evidence.set_public_page").count() == before
    assert not PublicPage.objects.exists()


# The printable record: linked from the console, every opening sealed --------------------------


def test_the_console_links_to_the_printable_record(net, client_as):  # type: ignore[no-untyped-def]
    incident = report_incident()
    dani = client_as(net.dani)
    page = dani.get(f"/dispatch/boyle-heights/?incident={incident.pk}").content.decode()
    link = f'href="/incidents/{incident.reference}/record/"'
    assert link in page
    assert dani.get(f"/incidents/{incident.reference}/record/").status_code == 200


def test_opening_the_record_or_a_file_is_sealed_in_the_audit_chain(net, client_as):  # type: ignore[no-untyped-def]
    from defensa.evidence.models import Media

    incident = confirmed_with_evidence(net, Client())
    before = AuditEntry.objects.count()
    html = client_as(net.lucia).get(f"/incidents/{incident.reference}/record/").content.decode()
    assert "Intact." in html  # the page's own audit entry is part of the chain it checks
    opened = AuditEntry.objects.get(action="evidence.record_opened")
    assert opened.actor_id == net.lucia.pk
    assert opened.object_id == str(incident.pk) and opened.committee_id == net.boyle.pk
    assert AuditEntry.objects.count() == before + 1

    media = Media.objects.get()
    file = client_as(net.ana).get(f"/incidents/{incident.reference}/evidence/m{media.pk}/")
    assert file.status_code == 200
    sealed = AuditEntry.objects.get(action="evidence.file_opened")
    assert sealed.actor_id == net.ana.pk and sealed.data["file"] == f"m{media.pk}"
    # Ids only: nothing a reporter wrote reaches the chain.
    assert "bakery" not in str(sealed.data) + str(opened.data)
    assert verify_chain()[1] is None

    # Refused requests leave no trace to read and write nothing.
    count = AuditEntry.objects.count()
    assert client_as(net.mo).get(f"/incidents/{incident.reference}/record/").status_code == 404
    missing = client_as(net.ana).get(f"/incidents/{incident.reference}/evidence/m999999/")
    assert missing.status_code == 404
    assert AuditEntry.objects.count() == count
