"""Cases for the legal team: opening, encryption, access, pipeline, escalation, reveals."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.audit.reveals import RevealQuota, record_reveal
from defensa.cases import actions
from defensa.cases.models import (
    Case,
    Entry,
    FamilyContact,
    Status,
    Task,
    TaskKind,
)
from defensa.cases.tests.helpers import canary_case
from defensa.cases.timeline import verify_timeline
from defensa.core import crypto
from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_PHONE, dump_database
from defensa.core.transitions import IllegalTransition
from defensa.incidents.models import Incident
from defensa.notify import messages as notify_messages
from defensa.notify.models import Delivery
from defensa.reports.actions import receive_report


def _incident(net) -> Incident:
    report = receive_report(
        {"category": "home_arrest", "zip_code": "90033", "description": "x"},
        channel="web",
        idempotency_key="case-test-report",
    ).report
    return report.incident


def test_legal_team_opens_a_case_from_an_incident(client_as, net):
    incident = _incident(net)
    client = client_as(net.lucia)
    response = client.post(
        reverse("cases:new"),
        {
            "committee": net.boyle.pk,
            "source": "incident",
            "reference": incident.reference.lower(),
            "person_name": "Juan Pérez",
            "a_number": "a-012 345 678",
            "birth_date": "1988-04-05",
            "birth_country": "México",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == reverse("cases:case", args=[case.pk])
    assert case.incident == incident and case.committee == net.boyle
    assert case.status == Status.REPORTED
    assert crypto.unseal(case, "a_number") == "A012345678"
    assert crypto.unseal(case, "person_name") == "Juan Pérez"
    task = Task.objects.get(case=case)
    assert task.kind == TaskKind.CONSULTATION
    assert abs(task.due_at - (case.created_at + dt.timedelta(hours=48))) < dt.timedelta(seconds=1)
    # The legal team is told (lucia is its only member), with no identity in the message.
    delivery = Delivery.objects.get(template="case_opened")
    assert delivery.recipient == net.lucia
    body = notify_messages.render(delivery).body
    assert case.reference in body and "Juan" not in body and "A012345678" not in body
    assert verify_timeline(case) == []
    assert AuditEntry.objects.filter(action="cases.opened").count() == 1


def test_identifiers_and_contacts_are_only_ciphertext_at_rest(net):
    case = canary_case(net)
    text = "\n".join(dump_database().values())
    for needle in (CANARY_A_NUMBER, CANARY_PHONE, "Canary Person", "Canary Sister", "Guatemala"):
        assert needle not in text
    contact = FamilyContact.objects.get(case=case)
    assert contact.data_key_id == case.data_key_id  # one key per case
    crypto.shred(case.data_key)
    case.refresh_from_db()
    with pytest.raises(crypto.KeyShredded):
        crypto.unseal(case, "a_number")
    with pytest.raises(crypto.KeyShredded):
        crypto.unseal(FamilyContact.objects.get(pk=contact.pk), "address")


@pytest.mark.parametrize("who", ["ana", "dani", "vero", "mo", "pat", "omar", "admin"])
def test_only_the_legal_team_reaches_cases(client_as, net, who):
    case = canary_case(net)
    client = client_as(getattr(net, who))
    assert client.get(reverse("cases:list")).status_code == 404
    assert client.get(reverse("cases:new")).status_code == 404
    assert client.get(reverse("cases:case", args=[case.pk])).status_code == 404
    assert client.post(reverse("cases:reveal", args=[case.pk])).status_code == 404
    response = client.post(reverse("cases:update", args=[case.pk, "note"]), {"note": "hi"})
    assert response.status_code == 404
    assert not Entry.objects.filter(action="note").exists()


def test_legal_team_of_another_committee_gets_404(client_as, net):
    case = canary_case(net)
    from defensa.core.testing import join, make_user

    other = make_user("lena")
    join(other, net.east, is_legal=True)
    client = client_as(other)
    assert client.get(reverse("cases:case", args=[case.pk])).status_code == 404
    assert client.get(reverse("cases:list")).status_code == 200


def test_case_page_masks_until_an_audited_reveal(client_as, net):
    case = canary_case(net)
    client = client_as(net.lucia)
    page = client.get(reverse("cases:case", args=[case.pk])).content.decode()
    assert CANARY_A_NUMBER not in page and CANARY_PHONE not in page and "Canary" not in page
    revealed = client.post(reverse("cases:reveal", args=[case.pk])).content.decode()
    assert CANARY_A_NUMBER in revealed and CANARY_PHONE in revealed
    revealing = AuditEntry.objects.filter(action="cases.identifiers_revealed")
    assert revealing.filter(actor_id=net.lucia.pk).count() == 1
    assert verify_timeline(case) == []


def test_reveals_share_the_one_quota_and_the_refusal_is_audited(client_as, net, settings):
    # Issue 9, point 8: no counter of its own; the one quota of every sealed value.
    settings.PHONE_REVEALS_PER_HOUR = 2
    first, second, third = canary_case(net), canary_case(net), canary_case(net)
    client = client_as(net.lucia)
    for case in (first, first, second):  # looking again at the same case is not counted again
        page = client.post(reverse("cases:reveal", args=[case.pk])).content.decode()
        assert CANARY_A_NUMBER in page
    response = client.post(reverse("cases:reveal", args=[third.pk]), follow=True)
    assert CANARY_A_NUMBER not in response.content.decode()
    assert AuditEntry.objects.filter(action="cases.identifiers_reveal_refused").count() == 1
    # The same quota as a member's phone: Lucia cannot open anything else this hour.
    with pytest.raises(RevealQuota):
        record_reveal("member.phone", actor=net.lucia, obj=net.mo)
    # Each look is audited and sealed on the timeline, the repeated one too.
    assert AuditEntry.objects.filter(action="cases.identifiers_revealed").count() == 3
    assert verify_timeline(first) == []


def test_opening_a_case_page_decrypts_its_notes_only_audited_and_counted(client_as, net, settings):
    settings.PHONE_REVEALS_PER_HOUR = 1
    with_note = canary_case(net, note="Canary note: the family lawyer is Sra. Quetzal")
    client = client_as(net.lucia)
    page = client.get(reverse("cases:case", args=[with_note.pk])).content.decode()
    assert "Sra. Quetzal" in page
    page = client.get(reverse("cases:case", args=[with_note.pk])).content.decode()
    assert "Sra. Quetzal" in page  # the same case again: audited, not counted again
    opened = AuditEntry.objects.filter(action="cases.notes_revealed", actor_id=net.lucia.pk)
    assert opened.count() == 2 and opened.first().object_id == str(with_note.pk)
    # A case without notes opens nothing sealed: no reveal, no quota used.
    bare = canary_case(net)
    assert client.get(reverse("cases:case", args=[bare.pk])).status_code == 200
    assert not AuditEntry.objects.filter(action="cases.notes_revealed", object_id=str(bare.pk))
    # Past the quota, another case's notes stay sealed; the page still works, and says why.
    other = canary_case(net, note="Canary note: second family")
    page = client.get(reverse("cases:case", args=[other.pk])).content.decode()
    assert "second family" not in page and "too many records" in page
    assert AuditEntry.objects.filter(action="cases.notes_reveal_refused").count() == 1


def test_status_pipeline_allows_only_listed_moves(client_as, net):
    case = canary_case(net)  # a facility was given: located
    assert case.status == Status.LOCATED
    client = client_as(net.lucia)
    url = reverse("cases:update", args=[case.pk, "status"])
    assert client.post(url, {"status": "hearing"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.HEARING
    # Back two steps is not offered: a clear error, nothing changes.
    response = client.post(url, {"status": "reported"})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == Status.HEARING
    actions.change_status(case, Status.RELEASED, actor=net.lucia)
    with pytest.raises(IllegalTransition):
        actions.change_status(case, Status.BOND, actor=net.lucia)
    actions.change_status(case, Status.CLOSED, actor=net.lucia)
    assert Case.objects.get(pk=case.pk).next_statuses() == []
    assert verify_timeline(case) == []


def test_forms_on_the_case_page_save_and_explain_errors(client_as, net):
    case = canary_case(net)
    client = client_as(net.lucia)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    bad = client.post(
        reverse("cases:update", args=[case.pk, "contact"]),
        {"name": "Tía", "channel": "sms", "address": "call me", "language": "es"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert bad.status_code == 400
    assert "número de teléfono" in bad.content.decode()
    assert FamilyContact.objects.filter(case=case).count() == 1
    ok = client.post(
        reverse("cases:update", args=[case.pk, "contact"]),
        {"name": "Tía", "channel": "sms", "address": "(213) 555-0142", "language": "es"},
    )
    assert ok.status_code == 302
    contact = FamilyContact.objects.filter(case=case).last()
    assert crypto.unseal(contact, "address") == "+12135550142"
    client.post(
        reverse("cases:update", args=[case.pk, "bond"]),
        {"amount": "5000", "status": "set", "fund": "LA Bond Fund"},
    )
    client.post(
        reverse("cases:update", args=[case.pk, "hearing"]),
        {"kind": "bond", "at": "2030-01-10T09:00", "place": "Adelanto court"},
    )
    client.post(reverse("cases:update", args=[case.pk, "attorney"]), {"attorney": net.lucia.pk})
    case.refresh_from_db()
    assert (case.bond_amount, case.bond_status, case.attorney) == (5000, "set", net.lucia)
    assert case.hearings.count() == 1
    assert verify_timeline(case) == []


def test_overdue_consultation_escalates_once(net):
    case = canary_case(net)
    task = Task.objects.get(case=case)
    assert actions.escalate_case_tasks(now=task.due_at - dt.timedelta(minutes=1)) == 0
    out = StringIO()
    later = (task.due_at + dt.timedelta(minutes=1)).isoformat()
    call_command("escalate_case_tasks", now=later, stdout=out)
    assert "escalated 1" in out.getvalue()
    call_command("escalate_case_tasks", now=later, stdout=StringIO())
    deliveries = Delivery.objects.filter(template="case_task_overdue")
    assert [d.recipient for d in deliveries] == [net.lucia]
    body = notify_messages.render(deliveries.get()).body
    assert case.reference in body and "48" in body
    task.refresh_from_db()
    assert task.escalated_at is not None
    assert Entry.objects.filter(case=case, action="escalated").count() == 1
    assert verify_timeline(case) == []


def test_done_or_closed_tasks_do_not_escalate(net):
    case = canary_case(net)
    task = Task.objects.get(case=case)
    actions.complete_task(task, actor=net.lucia)
    case.refresh_from_db()
    assert case.status == Status.CONSULTED
    other = canary_case(net)
    actions.change_status(other, Status.CLOSED, actor=net.lucia)
    assert actions.escalate_case_tasks(now=timezone.now() + dt.timedelta(days=3)) == 0


def test_incident_page_says_a_case_exists_and_nothing_more(client_as, net):
    incident = _incident(net)
    case = canary_case(net, incident=incident)
    dani = client_as(net.dani)
    console = reverse("dispatch:console", args=["boyle-heights"])
    page = dani.get(f"{console}?incident={incident.pk}")
    text = page.content.decode()
    assert "A case is open; the legal team has it." in text
    assert case.reference not in text and reverse("cases:case", args=[case.pk]) not in text


def test_timeline_tampering_is_found(net):
    case = canary_case(net)
    actions.add_case_note(case, "called the family", actor=net.lucia)
    entry = Entry.objects.get(case=case, action="note")
    other = Entry.objects.get(case=case, action="opened")
    Entry.objects.filter(pk=entry.pk).update(at=entry.at + dt.timedelta(minutes=5))
    Entry.objects.filter(pk=other.pk).delete()
    problems = verify_timeline(case)
    assert any("time differs" in p for p in problems)
    assert any("gone from the timeline" in p for p in problems)


def test_open_case_rejects_a_reference_of_another_committee(client_as, net):
    report = receive_report(
        {"category": "home_arrest", "zip_code": "90022", "description": "x"},
        channel="web",
        idempotency_key="east-la-report",
    ).report
    response = client_as(net.lucia).post(
        reverse("cases:new"),
        {"committee": net.boyle.pk, "source": "incident", "reference": report.incident.reference},
    )
    assert response.status_code == 400
    assert "No incident of this committee" in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db(transaction=False)
@hsettings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.dictionaries(
        st.sampled_from(
            ["committee", "source", "reference", "person_name", "a_number", "birth_date",
             "birth_country", "facility", "note"]
        ),
        st.one_of(st.text(max_size=40), st.integers(-5, 10**12).map(str)),
    )
)  # fmt: skip
def test_fuzzed_new_case_form_never_500s(client, data):
    from defensa.core import testing

    with transaction.atomic():
        net = testing.build_network()
        testing.sign_in(client, net.lucia)
        response = client.post(reverse("cases:new"), data)
        assert response.status_code in (302, 400)
        if response.status_code == 400:
            assert not Case.objects.exists()
        transaction.set_rollback(True)
