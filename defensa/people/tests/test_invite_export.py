"""Invitations in bulk and exports of members."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from defensa.audit.models import AuditEntry
from defensa.committees.actions import find_invitation, join_with_account
from defensa.committees.models import Invitation
from defensa.core import testing
from defensa.imports import actions as imports
from defensa.imports.tasks import run_import_task
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.people.messages import invitation_token
from defensa.people.models import ExportStatus, Invitee, MemberExport
from defensa.people.rows import KIND
from defensa.testing.spreadsheets import member_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def _imported(net: testing.Network, rows: int) -> list[Invitee]:
    job = imports.upload_import(KIND, net.boyle.pk, [member_csv(rows)], actor=net.ana)
    imports.confirm_import(job, rows=rows, actor=net.ana)
    run_import_task.call(job.pk)
    return list(Invitee.objects.order_by("pk"))


def test_invite_by_sms_in_each_language_then_resend(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    people = _imported(net, 4)
    client = client_as(net.ana)
    url = reverse("people:invite", args=["boyle-heights"])
    response = client.post(url, {"channel": "sms", "who": "new"})
    assert response.status_code == 302
    deliveries = list(Delivery.objects.filter(template="people_invitation").order_by("pk"))
    assert len(deliveries) == 4
    assert {d.language for d in deliveries} == {"en", "es"}
    first = deliveries[1]  # Persona 1 speaks Spanish
    assert first.recipient is None and first.resolve_address() == "+12132000001"
    assert first.data_key_id == people[1].data_key_id  # dies with the invitee's key
    body = messages.render(first).body
    assert "te invita" in body or "invita" in body
    people[1].refresh_from_db()
    token = invitation_token(people[1].link_nonce)
    assert token in body
    assert Delivery.objects.filter(context__invitee=people[1].pk).count() == 1
    assert client.get(reverse("join:start", args=[token])).status_code == 200
    invitation = find_invitation(token)
    assert invitation is not None and invitation.pk == people[1].invitation_id
    assert AuditEntry.objects.filter(action="people.invited").count() == 1

    # Inviting "new" people again sends nothing; "waiting" sends a fresh link and kills the old.
    client.post(url, {"channel": "sms", "who": "new"})
    assert Delivery.objects.filter(template="people_invitation").count() == 4
    client.post(url, {"channel": "sms", "who": "waiting"})
    assert Delivery.objects.filter(template="people_invitation").count() == 8
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    people[1].refresh_from_db()
    assert invitation_token(people[1].link_nonce) != token


def test_invite_as_sms_only_members_who_join_by_texting_the_code(  # type: ignore[no-untyped-def]
    net: testing.Network, client_as, client, settings
) -> None:
    from defensa.committees.models import Membership
    from defensa.committees.tests.test_sms_members import CODE
    from defensa.reports.tests.test_sms import AUTH_TOKEN, BASE
    from defensa.reports.tests.test_sms import text as signed_text

    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_WEBHOOK_BASE_URL = AUTH_TOKEN, BASE
    people = _imported(net, 3)
    coordinator = client_as(net.ana)
    url = reverse("people:invite", args=["boyle-heights"])
    assert coordinator.post(url, {"channel": "sms_only", "who": "new"}).status_code == 302
    deliveries = list(Delivery.objects.filter(template="committee_sms_invitation").order_by("pk"))
    assert len(deliveries) == 3 and not Delivery.objects.filter(template="people_invitation")
    second = deliveries[1]  # Persona 1 speaks Spanish
    assert second.language == "es" and second.resolve_address() == "+12132000001"
    assert second.data_key_id == people[1].data_key_id  # dies with the invitee's key
    body = messages.render(second).body
    assert "Para unirte, responde UNIRME" in body
    code = CODE.search(body).group(1)  # type: ignore[union-attr]
    people[1].refresh_from_db()
    assert people[1].channel == "sms_only" and people[1].invitation.by_text
    # The progress bar counts these texts like the links.
    page = coordinator.get(url).content.decode()
    assert "0 sent · 0 failed · 3 waiting" in page

    assert signed_text(Client(), f"UNIRME {code}", number="+12132000001").status_code == 200
    people[1].refresh_from_db()
    assert people[1].joined
    joined = people[1].invitation.used_by
    assert joined.sms_only and joined.display_name == people[1].detail("name")
    assert Membership.objects.filter(user=joined, committee=net.boyle).exists()
    page = coordinator.get(url).content.decode()
    assert "joined: 1" in page


def test_an_import_recognises_an_sms_only_member_by_phone(net: testing.Network) -> None:
    from defensa.committees.actions import invite_by_text, join_by_text, sms_code

    invitation = invite_by_text(
        net.boyle, actor=net.ana, phone="+12132000001", name="Sin correo", language="es"
    )
    assert join_by_text("+12132000001", sms_code(invitation)).outcome == "joined"
    people = _imported(net, 3)  # the second row has that phone, and an email
    assert len(people) == 2
    assert not [p for p in people if p.detail("phone") == "+12132000001"]


def test_who_joined_and_who_not(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    people = _imported(net, 3)
    client = client_as(net.ana)
    client.post(
        reverse("people:invite", args=["boyle-heights"]), {"channel": "email", "who": "new"}
    )
    people[0].refresh_from_db()
    newcomer = testing.make_user("nora")
    join_with_account(people[0].invitation, user=newcomer)
    page = client.get(reverse("people:invite", args=["boyle-heights"])).content.decode()
    assert "On the list: 3 · invited: 3 · joined: 1" in page
    assert page.count("Invited, not joined yet") == 2
    # The joined person gets nothing more when the others are sent their link again.
    client.post(
        reverse("people:invite", args=["boyle-heights"]), {"channel": "email", "who": "waiting"}
    )
    assert Delivery.objects.filter(context__invitee=people[0].pk).count() == 1
    assert Delivery.objects.filter(context__invitee=people[1].pk).count() == 2


def test_bad_invite_posts_change_nothing(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    _imported(net, 2)
    client = client_as(net.ana)
    url = reverse("people:invite", args=["boyle-heights"])
    for data in ({}, {"channel": "fax", "who": "new"}, {"channel": "sms", "who": "all"}):
        assert client.post(url, data).status_code == 400
    assert not Delivery.objects.exists()
    assert client.get(url + "?import=999999").status_code == 404
    assert client.get(url + "?import=x").status_code == 404


def test_export_masks_phones_without_a_second_coordinator(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    net.mo.phone = "+12135550177"
    net.mo.save()
    client = client_as(net.ana)
    url = reverse("people:export", args=["boyle-heights"])
    client.post(url, {"columns": ["name", "phone"]})
    export = MemberExport.objects.get()
    assert export.status == ExportStatus.APPROVED and not export.full_phones
    response = client.post(reverse("people:download", args=["boyle-heights", export.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Phone"]
    assert ["Mo", "•••-•••-••77"] in rows
    assert "+12135550177" not in response.content.decode()
    # Once only.
    again = client.post(reverse("people:download", args=["boyle-heights", export.pk]))
    assert again.status_code == 302
    assert AuditEntry.objects.filter(action="people.export_downloaded").count() == 1


def test_full_phones_need_another_coordinator(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    net.mo.phone = "+12135550177"
    net.mo.save()
    bea = testing.make_user("bea")
    testing.join(bea, net.boyle, is_coordinator=True)
    client = client_as(net.ana)
    client.post(
        reverse("people:export", args=["boyle-heights"]),
        {"columns": ["name", "phone"], "full_phones": "on"},
    )
    export = MemberExport.objects.get()
    assert export.status == ExportStatus.PENDING
    # Not downloadable yet, and not approvable by the one who asked.
    assert (
        client.post(reverse("people:download", args=["boyle-heights", export.pk])).status_code
        == 302
    )
    client.post(reverse("people:decide", args=["boyle-heights", export.pk, "approve"]))
    assert MemberExport.objects.get().status == ExportStatus.PENDING
    # Omar coordinates another committee: the export is not his to see.
    other = client_as(net.omar)
    assert (
        other.post(
            reverse("people:decide", args=["boyle-heights", export.pk, "approve"])
        ).status_code
        == 404
    )
    client_as(bea).post(reverse("people:decide", args=["boyle-heights", export.pk, "approve"]))
    assert MemberExport.objects.get().status == ExportStatus.APPROVED
    client = client_as(net.ana)
    response = client.post(reverse("people:download", args=["boyle-heights", export.pk]))
    assert "+12135550177" in response.content.decode("utf-8-sig")
    actions = list(
        AuditEntry.objects.filter(action__startswith="people.export").values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "people.export_requested",
        "people.export_approved",
        "people.export_downloaded",
    ]


def test_export_form_refuses_nonsense(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    url = reverse("people:export", args=["boyle-heights"])
    for data in ({}, {"columns": ["password"]}, {"columns": ""}):
        response = client.post(url, data)
        assert response.status_code == 400
    assert not MemberExport.objects.exists()


def test_exports_are_limited_per_day(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    from defensa.people.actions import EXPORTS_PER_DAY

    client = client_as(net.ana)
    url = reverse("people:export", args=["boyle-heights"])
    for _n in range(EXPORTS_PER_DAY):
        client.post(url, {"columns": ["name"]})
    response = client.post(url, {"columns": ["name"]}, follow=True)
    assert "the most for one day" in response.content.decode()
    assert MemberExport.objects.count() == EXPORTS_PER_DAY
    assert AuditEntry.objects.filter(action="people.export_requested").count() == EXPORTS_PER_DAY


def test_removing_someone_erases_them_and_kills_their_link(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    from defensa.core.crypto.models import DataKey

    people = _imported(net, 2)
    client = client_as(net.ana)
    client.post(reverse("people:invite", args=["boyle-heights"]), {"channel": "sms", "who": "new"})
    gone = Invitee.objects.get(pk=people[0].pk)
    delivery = Delivery.objects.get(context__invitee=gone.pk)
    assert (
        client_as(net.omar)
        .post(reverse("people:forget", args=["boyle-heights", gone.pk]))
        .status_code
        == 404
    )
    client = client_as(net.ana)
    client.post(reverse("people:forget", args=["boyle-heights", gone.pk]))
    assert not Invitee.objects.filter(pk=gone.pk).exists()
    assert Invitation.objects.get(pk=gone.invitation_id).revoked_at is not None
    assert DataKey.objects.get(pk=gone.data_key_id).wrapped is None
    delivery.refresh_from_db()
    assert delivery.resolve_address() == ""  # the outbox forgot the number too
    assert AuditEntry.objects.filter(action="people.invitee_forgotten").count() == 1
