"""Writes of the delivery engine: queue a message, opt out and in, retry or cancel a delivery.

`queue_message` is how every part of Defensa sends anything. It writes Delivery rows in the
caller's transaction (the outbox): if the change that causes the message rolls back, so does
the message; if it commits, a worker will send it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.core import crypto
from defensa.core.crypto.digests import LEGACY, digest_key, keyed_digest
from defensa.notify import messages
from defensa.notify.channels import TEST_PREFIX
from defensa.notify.models import (
    DELIVERY_RETENTION,
    Channel,
    Delivery,
    OptOut,
    Priority,
    Status,
    mask_address,
)


class NotInTransaction(RuntimeError):
    """queue_message was called outside an atomic block: the outbox would not be atomic."""


@dataclass(frozen=True)
class Address:
    """Someone without an account (a reporter who left a number): one channel, one address."""

    channel: str
    value: str
    language: str = ""


def normalize_address(channel: str, value: str) -> str:
    value = value.strip()
    if channel == Channel.EMAIL:
        return value.lower()
    if channel in (Channel.SMS, Channel.SIGNAL):
        return ("+" if value.startswith("+") else "") + re.sub(r"\D", "", value)
    return value


OPTOUT_DIGEST = "notify.optout"
# The scheme before digest keys: HMAC under a key derived from SECRET_KEY. Rows made then were
# re-keyed by notify's migration 0004 as keyed_digest(key, LEGACY + old digest); they are
# still found (`address_digests`) until the address sends STOP or START again, or their five
# years end.
LEGACY_OPTOUT_SALT = "defensa.notify.optout"


@functools.cache
def _legacy_key(secret: str) -> bytes:
    # What salted_hmac derived on every call; derived once per secret.
    return hashlib.sha256((LEGACY_OPTOUT_SALT + secret).encode()).digest()


def optout_key() -> bytes:
    """The opt-out digest key (one query): fetch once for a batch of addresses."""
    return digest_key(OPTOUT_DIGEST)


def address_digests(channel: str, value: str, key: bytes | None = None) -> tuple[str, str]:
    """The keyed digests an opt-out of this address may be stored under: the current one
    first, then the re-keyed legacy one. Lets us honour an opt-out without keeping the number.

    The key is a digest key under the master key, not SECRET_KEY (defensa/core/crypto/digests).
    """
    key = key if key is not None else optout_key()
    message = f"{channel}:{normalize_address(channel, value)}"
    old = keyed_digest(_legacy_key(settings.SECRET_KEY), message)
    return keyed_digest(key, message), keyed_digest(key, LEGACY + old)


def is_opted_out(channel: str, value: str) -> bool:
    if not value:
        return False
    return OptOut.objects.filter(
        channel=channel, address_digest__in=address_digests(channel, value)
    ).exists()


def opted_out_among(phones: Iterable[str]) -> set[str]:
    """The numbers among `phones` that texted STOP (one query for all)."""
    key = optout_key()
    probes = {phone: address_digests(Channel.SMS, phone, key) for phone in phones if phone}
    if not probes:
        return set()
    found = set(
        OptOut.objects.filter(
            channel=Channel.SMS, address_digest__in={d for ds in probes.values() for d in ds}
        ).values_list("address_digest", flat=True)
    )
    return {phone for phone, digests in probes.items() if found & set(digests)}


# The answer to STOP is the one message an opted-out number still gets: carriers require the
# confirmation. Only inbound keyword answers are such messages.
OPT_OUT_CONFIRMATIONS = frozenset({"sms_keyword_reply"})


# What `chosen_channels` and `queue_messages` read of a person. A caller that narrows its query
# with `.only()` names all of these: each field left out is one more query per person (a
# 100,000-member broadcast once took twice as long to queue for two such fields).
RECIPIENT_FIELDS = (  # the id comes with any query
    "email",
    "phone",
    "language",
    "is_active",
    "notify_email",
    "notify_sms",
    "notify_push",
    "notify_signal",
)


def chosen_channels(user: User, *, has_device: bool | None = None) -> list[str]:
    """The channels a person has chosen and can be reached on, in preference order.
    `has_device`: whether they have a push subscription, when the caller already knows (a
    batch asks once for everyone)."""
    chosen: list[str] = []
    if user.notify_sms and user.phone:
        chosen.append(Channel.SMS)
    if user.notify_email and user.email:
        chosen.append(Channel.EMAIL)
    if user.notify_push and (
        has_device if has_device is not None else user.push_subscriptions.exists()  # type: ignore[attr-defined]
    ):
        chosen.append(Channel.PUSH)
    if user.notify_signal and user.phone and signal_is_on():
        chosen.append(Channel.SIGNAL)
    return chosen


def signal_is_on() -> bool:
    """Signal is offered (and chosen) only while its transport is configured."""
    from defensa.notify.transports import transport_class

    return transport_class("signal").is_enabled()


def still_wanted(delivery: Delivery) -> str:
    """Empty if the delivery may still go out; otherwise why not (checked again at send time)."""
    return unwanted([delivery]).get(delivery.pk, "")


def unwanted(deliveries: Iterable[Delivery]) -> dict[int, str]:
    """`still_wanted` for a batch of deliveries (recipients loaded): opt-outs in one query.

    Returns {delivery id: why not} for the ones that must not go out.
    """
    reasons: dict[int, str] = {}
    probes: list[tuple[Delivery, tuple[str, str]]] = []
    key = b""
    for delivery in deliveries:
        user = delivery.recipient
        if delivery.channel == Channel.PUSH and user is None:
            reasons[delivery.pk] = gettext_noop("device notifications need an account")
            continue
        if user is not None:
            if not user.is_active:
                reasons[delivery.pk] = gettext_noop("the account is deactivated")
                continue
            if delivery.channel not in chosen_channels(user):
                reasons[delivery.pk] = gettext_noop("the person turned this channel off")
                continue
        if delivery.template in OPT_OUT_CONFIRMATIONS:
            continue  # the answer to STOP goes to the number that just opted out
        value = delivery.resolve_address()
        if value:
            key = key or optout_key()
            probes.append((delivery, address_digests(delivery.channel, value, key)))
    if probes:
        opted_out = set(
            OptOut.objects.filter(
                address_digest__in={d for _d, digests in probes for d in digests}
            ).values_list("channel", "address_digest")
        )
        for delivery, digests in probes:
            if any((delivery.channel, digest) in opted_out for digest in digests):
                reasons[delivery.pk] = gettext_noop("the address opted out")
    return reasons


def queue_message(
    recipient: User | Address,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    priority: int = Priority.NORMAL,
    idempotency_key: str,
    channels: Iterable[str] | None = None,
    actor: Any = None,
    audit: bool = True,
    address_key: Any = None,
) -> list[Delivery]:
    """Queue `template` for `recipient` on each channel they chose, in the caller's transaction.

    `idempotency_key` names the cause (e.g. "offer:42"): queueing the same key again returns
    the existing deliveries and sends nothing more. `channels` narrows (never widens) the
    person's own choice. Opted-out addresses get nothing. Returns the deliveries.
    `address_key` seals an Address under the caller's DataKey instead of one of its own, so
    shredding the caller's key erases the address from the outbox too (a pledge campaign).
    """
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction("call queue_message inside the atomic block of the change")
    stored = messages.check_context(dict(context or {}))
    if isinstance(recipient, Address):
        targets = [(recipient.channel, None, recipient.value)]
        language = recipient.language or settings.LANGUAGE_CODE
    else:
        wanted = chosen_channels(recipient) if recipient.is_active else []
        if channels is not None:
            narrowed = set(channels)
            wanted = [ch for ch in wanted if ch in narrowed]
        targets = [(ch, recipient, "") for ch in wanted]
        language = recipient.language or settings.LANGUAGE_CODE
    if len(idempotency_key) > 180 or not idempotency_key:
        raise ValueError("idempotency_key must be 1-180 characters")

    deliveries: list[Delivery] = []
    for channel, user, address in targets:
        messages.check_template(template, channel)
        probe = address or (user.email if channel == Channel.EMAIL else user.phone)  # type: ignore[union-attr]
        if template not in OPT_OUT_CONFIRMATIONS and is_opted_out(channel, probe):
            continue
        delivery, created = Delivery.objects.get_or_create(
            idempotency_key=f"{idempotency_key}:{channel}",
            defaults={
                "recipient": user,
                "address_hint": mask_address(channel, address) if address else "",
                "channel": channel,
                "template": template,
                "context": stored,
                "language": language,
                "priority": int(priority),
            },
        )
        if created and address:
            # Someone without an account: the address is kept only sealed (property 14).
            delivery.data_key = address_key or crypto.new_key("notify.delivery")
            crypto.seal(delivery, "sealed_address", address)
            delivery.save(update_fields=["data_key", "sealed_address"])
        deliveries.append(delivery)
    if audit and deliveries:
        record(
            "notify.queue_message",
            actor=actor,
            obj=deliveries[0],
            template=template,
            deliveries=[d.pk for d in deliveries],
        )
    return deliveries


def queue_messages(
    recipients: Iterable[User],
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    priority: int = Priority.BULK,
    idempotency_prefix: str,
    not_before: Any = None,
    contexts: Mapping[int, Mapping[str, Any]] | None = None,
    spread: bool | dict[str, int] = False,
) -> int:
    """The batch form of `queue_message` for many people at once (a broadcast's batch).

    Same rules, fewer queries: each person on each channel they chose (opted-out addresses
    skipped, checked in one query per batch), in their own language; the idempotency key of a
    person's delivery is "<prefix>:<user id>:<channel>", so queueing a batch again adds
    nothing. Writes in the caller's transaction and records no audit entry: the caller's
    action records one for the batch. `not_before` makes the rows due later (a paused
    broadcast). `contexts` gives some people their own context (by user id, e.g. each
    responder's own offer) in place of `context`. `spread` paces the batch (see
    `_send_times`; a dict, shared by the calls of a batch queued in parts, paces them as
    one). Returns how many deliveries were written now.
    """
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction("call queue_messages inside the atomic block of the change")
    stored = messages.check_context(dict(context or {}))
    own = {pk: messages.check_context(dict(ctx)) for pk, ctx in (contexts or {}).items()}
    if not idempotency_prefix or len(idempotency_prefix) > 120:
        raise ValueError("idempotency_prefix must be 1-120 characters")
    people = [user for user in recipients if user.is_active]
    # Whether someone has a device for push is one query for the batch, not one per person
    # (ids only: a prefetch built a queryset per person).
    devices = _with_devices([u.pk for u in people if u.notify_push])
    checked: set[str] = set()
    planned: list[tuple[User, str, str, tuple[str, str]]] = []  # user, channel, address, digests
    key = optout_key() if people else b""
    for user in people:
        for channel in chosen_channels(user, has_device=user.pk in devices):
            if channel not in checked:
                messages.check_template(template, channel)
                checked.add(channel)
            value = user.email if channel == Channel.EMAIL else user.phone
            planned.append((user, channel, value, address_digests(channel, value, key)))
    opted_out = _opted_out_pairs({d for p in planned for d in p[3]})
    due = not_before or timezone.now()
    rows = [
        (user.pk, channel, language, f"{idempotency_prefix}:{user.pk}:{channel}", own.get(user.pk))
        for user, channel, _value, digests in planned
        if not any((channel, digest) in opted_out for digest in digests)
        for language in [user.language or settings.LANGUAGE_CODE]
    ]
    existing = _existing_keys([row[3] for row in rows])
    fresh = [row for row in rows if row[3] not in existing]
    return len(_insert_deliveries(fresh, template, stored, int(priority), due, spread=spread))


def _with_devices(user_ids: list[int]) -> set[int]:
    """Which of these people have a push subscription (a query per 5,000 ids)."""
    from defensa.notify.transports.webpush.models import PushSubscription

    found: set[int] = set()
    for start in range(0, len(user_ids), 5000):
        found.update(
            PushSubscription.objects.filter(user_id__in=user_ids[start : start + 5000]).values_list(
                "user_id", flat=True
            )
        )
    return found


def queue_sealed_messages(
    addresses: Iterable[tuple[str, Address, Any]],
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    priority: int = Priority.NORMAL,
    idempotency_prefix: str,
    hint: str = "•••",
    spread: bool | dict[str, int] = False,
    not_before: Any = None,
) -> int:
    """The batch form of `queue_message` for people without an account (alert subscribers,
    pledgers by text): addresses only, each sealed under a data key of the caller's.

    `addresses` are (part, Address, DataKey) triples: `part` is stable for the person (a
    subscription id, a pledge number), so the idempotency key "<prefix>:<part>:<channel>"
    makes queueing again add nothing; each address is sealed under its DataKey (the person's
    own, or a campaign's: shredding it erases the addresses from the outbox too), which may
    be given already opened (`crypto.Opened`, when the caller has just unsealed with it). Opted-out
    addresses are skipped (one query for the batch). The deliveries page shows `hint` for the
    address, never a digit of it. `spread` and `not_before` as in `queue_messages`. Writes in
    the caller's transaction, no audit entry (the caller's action records one).
    Returns how many deliveries were written now.
    """
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction("call queue_sealed_messages inside the atomic block of the change")
    if not idempotency_prefix or len(idempotency_prefix) > 120:
        raise ValueError("idempotency_prefix must be 1-120 characters")
    stored = messages.check_context(dict(context or {}))
    key = optout_key()
    planned: list[tuple[str, Address, Any, tuple[str, str]]] = []
    checked: set[str] = set()
    for part, address, data_key in addresses:
        if address.channel not in checked:
            messages.check_template(template, address.channel)
            checked.add(address.channel)
        digests = address_digests(address.channel, address.value, key)
        ikey = f"{idempotency_prefix}:{part}:{address.channel}"
        planned.append((ikey, address, data_key, digests))
    if not planned:
        return 0
    opted_out = _opted_out_pairs({d for p in planned for d in p[3]})
    wanted = [p for p in planned if not any((p[1].channel, digest) in opted_out for digest in p[3])]
    existing = _existing_keys([p[0] for p in wanted])
    fresh = [p for p in dict((p[0], p) for p in wanted).values() if p[0] not in existing]
    connection = transaction.get_connection()
    field = Delivery._meta.get_field("sealed_address")
    keys: dict[int, crypto.Opened] = {}

    def seal(value: str, data_key: Any, pk: int) -> bytes:
        # crypto.seal's ciphertext, bound to its row's id (crypto.aad_for), without building a
        # model instance per row; each data key unwrapped once (a campaign's key seals all
        # its pledgers' numbers).
        opened = data_key if isinstance(data_key, crypto.Opened) else keys.get(data_key.pk)
        if opened is None:
            opened = keys[data_key.pk] = crypto.Opened(data_key)
        return opened.encrypt(value, aad=crypto.aad_for_row(Delivery, "sealed_address", pk))

    rows = [
        (
            None,
            address.channel,
            address.language or settings.LANGUAGE_CODE,
            ikey,
            None,
            dk.key_id if isinstance(dk, crypto.Opened) else dk.pk,
        )
        for ikey, address, dk, _digests in fresh
    ]
    due = not_before or timezone.now()
    if connection.vendor == "postgresql" and fresh:
        # The rows' ids are taken from the table's sequence first, so each address is sealed
        # before the one INSERT: sealing after it rewrote every row (an UPDATE of 34,000
        # rows and their seven indexes for a raid's subscribers at a million members).
        ids = _next_ids(connection, len(fresh))
        sealed_rows = [
            (*row, pk, seal(address.value, dk, pk))
            for row, pk, (_ikey, address, dk, _digests) in zip(rows, ids, fresh, strict=True)
        ]
        return len(
            _insert_deliveries(
                sealed_rows,
                template,
                stored,
                int(priority),
                due,
                hint=hint,
                extra=("data_key", "id", "sealed_address"),
                spread=spread,
            )
        )
    written = _insert_deliveries(
        rows,
        template,
        stored,
        int(priority),
        due,
        hint=hint,
        extra=("data_key",),
        spread=spread,
        ids=True,
    )
    # Elsewhere sealed once the ids exist, then written in one prepared UPDATE run over the
    # rows.
    sealed: list[tuple[Any, int]] = []
    for ikey, address, data_key, _digests in fresh:
        pk = written.get(ikey)
        if pk is None:
            continue
        blob = seal(address.value, data_key, pk)
        sealed.append((field.get_db_prep_save(blob, connection), pk))
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(Delivery._meta.db_table)} SET {quote(field.column)} = %s "  # noqa: S608
        f"WHERE {quote(Delivery._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(sealed), 900):
            cursor.executemany(sql, sealed[start : start + 900])
    return len(written)


def _next_ids(connection: Any, count: int) -> list[int]:
    """`count` new delivery ids from the table's own sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Delivery._meta.db_table, Delivery._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


# Rows per statement on PostgreSQL, where a chunk's values go as one array per column.
PG_CHUNK = 5000


def _opted_out_pairs(digests: set[str]) -> set[tuple[str, str]]:
    """(channel, digest) of the opt-outs stored under any of `digests`: one query. On
    PostgreSQL the digests go as one array (`= ANY`): psycopg's client-side binding took
    about 17 ms to read a statement of 1,000 placeholders, 3 ms with one array in it."""
    if not digests:
        return set()
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return set(
            OptOut.objects.filter(address_digest__in=digests).values_list(
                "channel", "address_digest"
            )
        )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('channel')}, {quote('address_digest')} "  # noqa: S608
            f"FROM {quote(OptOut._meta.db_table)} WHERE {quote('address_digest')} = ANY(%s)",
            [sorted(digests)],
        )
        return {(channel, digest) for channel, digest in cursor.fetchall()}


def _existing_keys(keys: list[str]) -> set[str]:
    """Which of these idempotency keys are already in the outbox (one array query on
    PostgreSQL; chunks of 900 elsewhere)."""
    if not keys:
        return set()
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        found: set[str] = set()
        for start in range(0, len(keys), 900):
            found.update(
                Delivery.objects.filter(idempotency_key__in=keys[start : start + 900]).values_list(
                    "idempotency_key", flat=True
                )
            )
        return found
    quote = connection.ops.quote_name
    column = quote(Delivery._meta.get_field("idempotency_key").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {quote(Delivery._meta.db_table)} "  # noqa: S608
            f"WHERE {column} = ANY(%s)",
            [keys],
        )
        return {key for (key,) in cursor.fetchall()}


def _send_times(rows: list[tuple[Any, ...]], due: Any, seen: dict[str, int]) -> list[Any]:
    """When each row of a mixed-channel batch is due: the n-th row of a channel at `due` plus n
    of that channel's rate intervals, the earliest its provider could take it anyway.

    The worker claims in due order and waits while a channel it is serving is full, so a batch
    queued channel by channel (every email, then every text) would be sent one channel at a
    time. Paced, the channels' rows interleave as their rates do and every channel sends at its
    full rate at once (a pledge campaign's flip: texts, email and device notifications).
    `seen` counts each channel's rows so far: one dict passed to every call of a batch queued
    in parts (with one `not_before`) paces the parts as one.
    """
    from defensa.notify.transports import TransportError, transport_for_channel

    intervals: dict[str, float] = {}
    for channel in {row[1] for row in rows}:
        try:
            rate = transport_for_channel(channel).rate
        except TransportError:
            rate = None
        intervals[channel] = rate.interval if rate is not None else 0.0
    times = []
    for row in rows:
        n = seen.get(row[1], 0)
        seen[row[1]] = n + 1
        times.append(due + dt.timedelta(seconds=n * intervals[row[1]]))
    return times


def _insert_deliveries(
    rows: list[tuple[Any, ...]],
    template: str,
    stored: dict[str, Any],
    priority: int,
    due: Any,
    *,
    hint: str = "",
    extra: tuple[str, ...] = (),
    spread: bool | dict[str, int] = False,
    ids: bool = False,
) -> dict[str, int | None]:
    """Insert (recipient id, channel, language, key, own context or None, *`extra` fields'
    values) rows sharing everything else (`stored` is the context of rows without their
    own; `hint` the address hint of every row). Returns {idempotency key: id} of the rows
    written: on PostgreSQL the insert's own answer; elsewhere every row given, with its id
    looked up only when `ids` (else None).

    Django's bulk_create prepares every value of every row through its field (16 fields x
    1,000 rows a batch), which made a 100k broadcast spend most of its enqueue time in
    Python; here the shared values are prepared once, by their fields. On PostgreSQL each
    chunk of 5,000 rows is one statement whose per-row values are one array per column
    (`unnest`): run row by row, psycopg bound 16 values per row in Python and waited for the
    server once per 500 (a million-member broadcast queued 730 people a second). Elsewhere
    one prepared INSERT is run over the rows. ON CONFLICT DO NOTHING (SQLite and
    PostgreSQL): a concurrent run of the same batch cannot make a second row either.
    """
    if not rows:
        return {}
    connection = transaction.get_connection()
    meta = Delivery._meta
    now = timezone.now()

    def prep(name: str, value: Any) -> Any:
        return meta.get_field(name).get_db_prep_save(value, connection)

    shared_context = prep("context", stored)
    # An empty dict is a pacing count not started yet, not "no pacing".
    seen = spread if isinstance(spread, dict) else ({} if spread else None)
    times = _send_times(rows, due, seen) if seen is not None else None
    shared = {
        "address_hint": hint,
        "template": template,
        "priority": priority,
        "status": Status.QUEUED.value,
        "attempts": 0,
        "transport": "",
        "last_error": "",
        "provider_message_id": "",
        "created_at": prep("created_at", now),
        "sent_at": None,
    }
    own = ["recipient_id", "channel", "language", "idempotency_key", "context"]
    own += ["next_attempt_at", *extra]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        return _insert_postgres(connection, rows, own, shared, stored, times, due)
    shared_due = prep("next_attempt_at", due)
    columns = [meta.get_field(name).column for name in own] + [
        meta.get_field(name).column for name in shared
    ]
    # Table and column names come from the model; every value is a parameter.
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608
    tail = tuple(shared.values())
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            cursor.executemany(
                sql,
                [
                    (
                        *row[:4],
                        shared_context if row[4] is None else prep("context", row[4]),
                        shared_due if times is None else prep("next_attempt_at", times[n]),
                        *row[5:],
                    )
                    + tail
                    for n, row in enumerate(rows[start : start + 500], start=start)
                ],
            )
    written: dict[str, int | None] = {row[3]: None for row in rows}
    if ids:
        keys = list(written)
        for start in range(0, len(keys), 900):
            written.update(
                Delivery.objects.filter(idempotency_key__in=keys[start : start + 900]).values_list(
                    "idempotency_key", "pk"
                )
            )
    return written


def _insert_postgres(
    connection: Any,
    rows: list[tuple[Any, ...]],
    own: list[str],
    shared: dict[str, Any],
    stored: dict[str, Any],
    times: list[Any] | None,
    due: Any,
) -> dict[str, int | None]:
    """`_insert_deliveries` on PostgreSQL: one INSERT ... SELECT FROM unnest(one array per
    own column) per chunk, the shared values as single parameters; RETURNING the new rows'
    ids and keys (a row that was already there is not returned)."""
    meta = Delivery._meta
    quote = connection.ops.quote_name
    context = meta.get_field("context")
    encoder = context.encoder  # type: ignore[attr-defined]
    shared_context = json.dumps(stored, cls=encoder)
    # Every row's values by column; a column whose rows all hold one value (no recipient,
    # no context of its own, one due time: a raid's subscribers) goes as a single parameter,
    # not an array: psycopg writes an array's every element in Python (a second of a raid's
    # 42,000 rows at a million members).
    values: list[list[Any]] = [[] for _ in own]
    for n, row in enumerate(rows):
        one = (
            *row[:4],
            None if row[4] is None else json.dumps(row[4], cls=encoder),
            due if times is None else times[n],
            *row[5:],
        )
        for column, value in zip(values, one, strict=True):
            column.append(value)
    arrays = []  # (index into values, column, SQL type of the array, select expression)
    single: dict[str, Any] = {}  # column -> the value of every row
    for i, name in enumerate(own):
        field = meta.get_field(name)
        first = values[i][0]
        if name != "idempotency_key" and all(  # the keys differ: one array at least
            value == first and type(value) is type(first) for value in values[i]
        ):
            single[field.column] = shared_context if name == "context" and first is None else first
        elif name == "context":
            # Rows with their own context carry it as text; the rest take the shared one.
            arrays.append((i, field.column, "text[]", "COALESCE(v.{}::jsonb, %s::jsonb)"))
        else:
            kind = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
            arrays.append((i, field.column, f"{kind}[]", "v.{}"))
    columns = {meta.get_field(name).column: name for name in own}
    names = [column for _i, column, _kind, _expr in arrays]
    names += [*single, *(meta.get_field(name).column for name in shared)]
    aliases = [f"c{i}" for i in range(len(arrays))]

    def cast(field: Any) -> str:
        kind = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
        return f"%s::{kind}"

    casts = [cast(meta.get_field(columns[column])) for column in single]
    casts += [cast(meta.get_field(name)) for name in shared]
    selects = [
        expr.format(alias) for (_i, _c, _k, expr), alias in zip(arrays, aliases, strict=True)
    ]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
        f"SELECT {', '.join(selects + casts)} "
        f"FROM unnest({', '.join(f'%s::{kind}' for _i, _c, kind, _e in arrays)}) "
        f"AS v({', '.join(aliases)}) ON CONFLICT DO NOTHING "
        f"RETURNING {quote(meta.get_field('idempotency_key').column)}, {quote(meta.pk.column)}"
    )
    contexts = [shared_context] if any(a[1] == context.column for a in arrays) else []
    written: dict[str, int | None] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), PG_CHUNK):
            chunk = [values[i][start : start + PG_CHUNK] for i, *_rest in arrays]
            # The context's shared value is the first placeholder of the SELECT list when a
            # row has its own; then the single values and the shared ones; then the arrays.
            params = [*contexts, *single.values(), *shared.values(), *chunk]
            cursor.execute(sql, params)
            written.update(cursor.fetchall())
    return written


@transaction.atomic
def retry_delivery(delivery: Delivery, *, actor: Any) -> Delivery:
    """Send a failed delivery again, now, with a fresh set of attempts."""
    if delivery.status != Status.FAILED:
        raise ValueError("only a failed delivery can be retried")
    delivery.status = Status.QUEUED
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    record("notify.retry_delivery", actor=actor, obj=delivery)
    return delivery


@transaction.atomic
def cancel_delivery(delivery: Delivery, *, actor: Any) -> Delivery:
    """Stop a delivery that has not gone out yet."""
    updated = Delivery.objects.filter(pk=delivery.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, last_error=gettext_noop("cancelled by a coordinator")
    )
    if not updated:
        raise ValueError("only a queued delivery can be cancelled")
    delivery.refresh_from_db()
    record("notify.cancel_delivery", actor=actor, obj=delivery)
    return delivery


class NoOwnAddress(ValueError):
    """No test can go to the admin on this channel now: `code` says why (the address that is
    missing, or "waiting" while their last test on it is not sent yet)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def test_key_prefix(actor: User) -> str:
    return f"{TEST_PREFIX}:{actor.pk}:"


@transaction.atomic
def send_test_message(channel: str, *, actor: User) -> list[Delivery]:
    """Queue a test message on `channel` to the admin's own address (the channels page).

    Email, text message and Signal go to the address on the admin's account whether or not
    they chose that channel for alerts (a test of the channel, not of their choice); device
    notifications go to their subscribed devices. Returns the delivery, or [] when the
    address has opted out (STOP). Raises NoOwnAddress when there is nothing to send to.
    """
    if channel not in Channel.values:
        raise NoOwnAddress("channel")
    waiting = Delivery.objects.filter(
        idempotency_key__startswith=test_key_prefix(actor),
        channel=channel,
        status__in=(Status.QUEUED, Status.SENDING),
    )
    if waiting.exists():
        # One at a time: a test is urgent, and must not crowd out real alerts.
        raise NoOwnAddress("waiting")
    key = test_key_prefix(actor) + secrets.token_hex(8)
    if channel == Channel.PUSH:
        if not (actor.notify_push and actor.push_subscriptions.exists()):  # type: ignore[attr-defined]
            raise NoOwnAddress("device")
        recipient: User | Address = actor
    else:
        value = actor.email if channel == Channel.EMAIL else actor.phone
        if not value:
            raise NoOwnAddress("email" if channel == Channel.EMAIL else "phone")
        recipient = Address(channel, value, actor.language)
    deliveries = queue_message(
        recipient,
        "test_message",
        {},
        priority=Priority.URGENT,
        idempotency_key=key,
        channels=[channel],
        actor=actor,
        audit=False,
    )
    record(
        "notify.test_message",
        actor=actor,
        obj=deliveries[0] if deliveries else None,
        channel=channel,
        deliveries=[d.pk for d in deliveries],
    )
    return deliveries


OptOutListener = Callable[[str, str], None]
_OPT_OUT_LISTENERS: list[OptOutListener] = []


def register_opt_out_listener(listener: OptOutListener) -> None:
    """Call `listener(channel, address)` inside every opt-out's transaction (registered once):
    an app above notify that keeps something for an address ends it there (alert subscribers).
    A listener writes no audit entry of its own: the opt-out's entry names the change."""
    if listener not in _OPT_OUT_LISTENERS:
        _OPT_OUT_LISTENERS.append(listener)


@transaction.atomic
def opt_out(channel: str, address: str, *, actor: Any = None) -> OptOut:
    """Record that an address wants nothing more on a channel; queued messages stop at once,
    and whatever an app keeps for the address ends (`register_opt_out_listener`)."""
    for listener in tuple(_OPT_OUT_LISTENERS):
        listener(channel, address)
    current, legacy = address_digests(channel, address)
    # A legacy row of the same address gives way to one under the current scheme.
    OptOut.objects.filter(channel=channel, address_digest=legacy).delete()
    entry, created = OptOut.objects.get_or_create(channel=channel, address_digest=current)
    if not created:
        # A new STOP renews the opt-out's retention period.
        entry.created_at = timezone.now()
        entry.save(update_fields=["created_at"])
    record("notify.opt_out", actor=actor, obj=entry, channel=channel)
    return entry


@transaction.atomic
def opt_in(channel: str, address: str, *, actor: Any = None) -> bool:
    """Undo an opt-out (e.g. SMS START). Returns whether there was one."""
    deleted, _ = OptOut.objects.filter(
        channel=channel, address_digest__in=address_digests(channel, address)
    ).delete()
    record("notify.opt_in", actor=actor, channel=channel, removed=bool(deleted))
    return bool(deleted)


@transaction.atomic
def set_language_by_text(person: User, language: str) -> bool:
    """A member texted a keyword of one language only (AYUDA, 도움말): their messages, and their
    pages, are in that language from now on. Returns whether it changed."""
    if person.language == language:
        return False
    before = person.language
    person.language = language
    person.save(update_fields=["language"])
    record("notify.language_set_by_text", actor=None, obj=person, before=before, language=language)
    return True


# Provider statuses that mean the message did not reach the phone, after it was accepted.
UNDELIVERED = {"undelivered", "failed"}


@transaction.atomic
def record_provider_status(
    transport: str, provider_message_id: str, status: str, error_code: str = ""
) -> Delivery | None:
    """A provider reports a sent message's fate later (a status callback).

    Only bad news changes anything: a message the carrier could not deliver becomes a failed
    delivery, shown to a person like any other failure.
    """
    delivery = (
        Delivery.objects.select_for_update()
        .filter(transport=transport, provider_message_id=provider_message_id)
        .first()
    )
    if delivery is None or status not in UNDELIVERED or delivery.status == Status.FAILED:
        return delivery
    reason = f"carrier: {status}" + (f" (error {error_code})" if error_code else "")
    delivery.status = Status.FAILED
    delivery.last_error = reason[:300]
    delivery.save(update_fields=["status", "last_error"])
    record("notify.delivery_failed", obj=delivery, channel=delivery.channel, by="provider")
    return delivery


@transaction.atomic
def purge_old_deliveries(*, now: Any = None) -> int:
    """Delete finished deliveries (and their attempts) past their retention period.

    Deliveries still queued or sending are kept whatever their age: purging them would lose
    a message. Returns how many deliveries were deleted.
    """
    cutoff = (now or timezone.now()) - DELIVERY_RETENTION
    finished = Delivery.objects.filter(
        status__in=[Status.SENT, Status.FAILED, Status.CANCELLED], created_at__lt=cutoff
    )
    count = finished.count()
    if count:
        finished.delete()
        record("notify.purge_deliveries", deleted=count)
    return count
