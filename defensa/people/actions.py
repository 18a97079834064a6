"""People writes: invitations in bulk, and exports with their second coordinator.

Each is one atomic change with one audit entry (ids and counts only).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.committees.actions import build_sms_invitation
from defensa.committees.models import Committee, Invitation
from defensa.core import crypto
from defensa.core.tokens import hash_token
from defensa.core.transitions import IllegalTransition
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Channel, Priority
from defensa.people.messages import INVITATION, invitation_token
from defensa.people.models import ExportStatus, Invitee, MemberExport

# "sms_only": an SMS-only membership (docs/accounts.md): a texted code to text back, no link.
SMS_ONLY = "sms_only"
CHANNELS = (Channel.SMS, Channel.EMAIL, SMS_ONLY)


def contact_for(invitee: Invitee, channel: str) -> str:
    """The invitee's address on the channel ("" if they have none there, or were forgotten)."""
    return invitee.detail("email" if channel == Channel.EMAIL else "phone")


@transaction.atomic
def invite_people(
    committee: Committee, invitees: Iterable[Invitee], *, channel: str, actor: User
) -> tuple[int, int]:
    """Send each person who has not joined a fresh single-use link, by SMS or email, in their
    language. An earlier link of theirs stops working (a resend replaces it). With the
    SMS_ONLY channel each gets instead a texted code to join as an SMS-only member by texting
    it back from that number (committees.actions.build_sms_invitation).

    Returns (invited, skipped: no address on that channel, or already joined).
    """
    if channel not in CHANNELS:
        raise IllegalTransition(code="channel")
    now = timezone.now()
    sent, skipped, ids = 0, 0, []
    for invitee in invitees:
        if invitee.committee_id != committee.pk or invitee.joined:
            skipped += 1
            continue
        address = contact_for(invitee, channel)
        if not address:
            skipped += 1
            continue
        old = invitee.invitation_id
        if old is not None:
            Invitation.objects.filter(pk=old, used_at__isnull=True, revoked_at__isnull=True).update(
                revoked_at=now
            )
        if channel == SMS_ONLY:
            invitation = build_sms_invitation(
                committee,
                actor=actor,
                phone=address,
                name=invitee.detail("name"),
                language=invitee.language,
                full=False,
                now=now,
                job=invitee.import_job_id,
                address_key=invitee.data_key,
            )
            invitee.invitation, invitee.link_nonce, invitee.channel = invitation, "", channel
            invitee.invited_at, invitee.times_invited = now, invitee.times_invited + 1
            invitee.save(
                update_fields=["invitation", "link_nonce", "channel", "invited_at", "times_invited"]
            )
            ids.append(invitee.pk)
            sent += 1
            continue
        nonce = secrets.token_hex(16)
        invitation = Invitation.build(
            committee, hash_token(invitation_token(nonce)), actor=actor, now=now
        )
        invitation.save()
        invitee.invitation, invitee.link_nonce, invitee.channel = invitation, nonce, channel
        invitee.invited_at, invitee.times_invited = now, invitee.times_invited + 1
        invitee.save(
            update_fields=["invitation", "link_nonce", "channel", "invited_at", "times_invited"]
        )
        queue_message(
            Address(channel, address, invitee.language),
            INVITATION,
            # The committee and import are there for the progress bar's counts.
            {"invitee": invitee.pk, "committee": committee.pk, "job": invitee.import_job_id},
            priority=Priority.BULK,
            idempotency_key=f"people.invite:{invitee.pk}:{invitation.pk}",
            audit=False,
            address_key=invitee.data_key,
        )
        ids.append(invitee.pk)
        sent += 1
    if sent:
        record(
            "people.invited",
            actor=actor,
            obj=committee,
            committee=committee,
            channel=channel,
            invitees=ids,
        )
    return sent, skipped


@transaction.atomic
def forget_invitee(invitee: Invitee, *, actor: User) -> None:
    """Take someone off the committee's list: their link stops working and their details
    are shredded (the deliveries sealed under their key with them)."""
    now = timezone.now()
    if invitee.invitation_id is not None:
        Invitation.objects.filter(
            pk=invitee.invitation_id, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
    key, pk, committee = invitee.data_key, invitee.pk, invitee.committee_id
    invitee.delete()
    if key is not None and key.wrapped is not None:
        crypto.shred(key)
    record("people.invitee_forgotten", actor=actor, committee=committee, invitee=pk)


# Exports ------------------------------------------------------------------------------

# Anti-exfiltration (security property 7): a coordinator asks for a few exports a day, not
# one after another.
EXPORTS_PER_DAY = 5
EXPORT_COLUMNS = (
    "name",
    "email",
    "phone",
    "language",
    "zip",
    "status",
    "roles",
    "skills",
    "joined",
)


@transaction.atomic
def request_export(
    committee: Committee, *, columns: list[str], full_phones: bool, actor: User
) -> MemberExport:
    """An export of the committee's members. Masked phones (or none) are ready at once; full
    phones wait for a second coordinator (security property 7). Refused (IllegalTransition
    "too_many") past EXPORTS_PER_DAY requests by one person in a day."""
    since = timezone.now() - dt.timedelta(days=1)
    if (
        MemberExport.objects.filter(requested_by=actor, requested_at__gte=since).count()
        >= EXPORTS_PER_DAY
    ):
        raise IllegalTransition(code="too_many")
    columns = [c for c in EXPORT_COLUMNS if c in columns]
    full = full_phones and "phone" in columns
    export = MemberExport.objects.create(
        committee=committee,
        columns=columns,
        full_phones=full,
        status=ExportStatus.PENDING if full else ExportStatus.APPROVED,
        requested_by=actor,
    )
    record(
        "people.export_requested",
        actor=actor,
        obj=export,
        committee=committee,
        columns=columns,
        full_phones=full,
    )
    return export


@transaction.atomic
def decide_export(export: MemberExport, *, approve: bool, actor: User) -> None:
    """A coordinator other than the one who asked approves or refuses full phones."""
    if export.requested_by_id == actor.pk:
        raise IllegalTransition(code="same_person")
    status = ExportStatus.APPROVED if approve else ExportStatus.REFUSED
    changed = MemberExport.objects.filter(pk=export.pk, status=ExportStatus.PENDING).update(
        status=status, decided_by=actor, decided_at=timezone.now()
    )
    if not changed:
        raise IllegalTransition(code="decided")
    export.status, export.decided_by = status, actor
    record(
        "people.export_approved" if approve else "people.export_refused",
        actor=actor,
        obj=export,
        committee=export.committee_id,
    )


@transaction.atomic
def take_export(export: MemberExport, *, rows: int, actor: User) -> None:
    """Use up an approved export as its requester downloads it (once)."""
    if export.requested_by_id != actor.pk:
        raise IllegalTransition(code="not_yours")
    changed = MemberExport.objects.filter(pk=export.pk, status=ExportStatus.APPROVED).update(
        status=ExportStatus.DOWNLOADED, downloaded_at=timezone.now()
    )
    if not changed:
        raise IllegalTransition(code="used")
    export.status = ExportStatus.DOWNLOADED
    record(
        "people.export_downloaded",
        actor=actor,
        obj=export,
        committee=export.committee_id,
        rows=rows,
        full_phones=export.full_phones,
    )
