"""Opt-out and SMS-sender digests cannot be reversed from a copy of the database (issue
"Hardening" 12): they are keyed by a digest key under the master key, not by SECRET_KEY.

The attack: someone holding the database and SECRET_KEY (a default install keeps both in
the data directory, so a backup of it holds both) hashes candidate phone numbers the way the
digests used to be made and looks for them in the tables.
"""

from __future__ import annotations

import base64
import importlib

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.utils.crypto import salted_hmac

from defensa.core import crypto
from defensa.core.crypto.digests import digest_key
from defensa.core.crypto.keys import generate_entry, master_keys
from defensa.core.tests.canary import CANARY_PHONE
from defensa.notify.actions import (
    LEGACY_OPTOUT_SALT,
    Address,
    is_opted_out,
    normalize_address,
    opt_in,
    opt_out,
    queue_message,
)
from defensa.notify.models import OptOut
from defensa.reports.models import SmsText
from defensa.reports.sms import sender_digest

pytestmark = pytest.mark.django_db

NEW = generate_entry("new")
NUMBER = normalize_address("sms", CANARY_PHONE)  # +13235550177


def with_secret_key(message: str, salt: str) -> str:
    """What anyone with SECRET_KEY computes (the old scheme)."""
    return salted_hmac(salt, message, algorithm="sha256").hexdigest()


def brute_force(stored: set[str], salt: str, prefix: str = "") -> list[str]:
    """Try the 10,000 numbers of the canary's exchange, as an attacker would try them all."""
    found = []
    for line in range(10000):
        number = f"+1323555{line:04d}"
        if with_secret_key(f"{prefix}{number}", salt) in stored:
            found.append(number)
    return found


def current_master_entries() -> str:
    """The configured master keys as DEFENSA_MASTER_KEYS would spell them."""
    keys = master_keys()
    order = [keys.current_id, *(k for k in keys.keys if k != keys.current_id)]
    return ",".join(f"{k}:{base64.urlsafe_b64encode(keys.keys[k]).decode()}" for k in order)


def test_a_database_copy_and_secret_key_do_not_reveal_who_opted_out_or_texted(settings):
    opt_out("sms", CANARY_PHONE)
    SmsText.objects.create(
        message_key="m" * 64,
        sender=sender_digest(CANARY_PHONE),
        report=_a_report(),
    )
    optouts = set(OptOut.objects.values_list("address_digest", flat=True))
    senders = set(SmsText.objects.values_list("sender", flat=True))
    # The attack finds nothing (it found the canary with the old scheme: see the control).
    assert brute_force(optouts, LEGACY_OPTOUT_SALT, "sms:") == []
    assert brute_force(senders, "defensa.reports.sms_sender") == []
    control = {with_secret_key(f"sms:{NUMBER}", LEGACY_OPTOUT_SALT)}
    assert brute_force(control, LEGACY_OPTOUT_SALT, "sms:") == [NUMBER]
    # Without the master key the digest key does not open: nothing to hash numbers with.
    # (Another key under the same id: what an attacker without the master key can try.)
    settings.MASTER_KEYS = f"{master_keys().current_id}:" + NEW.split(":", 1)[1]
    with pytest.raises(crypto.WrongKey):
        digest_key("notify.optout")


def _a_report():  # type: ignore[no-untyped-def]
    from defensa.reports.actions import receive_report

    return receive_report(
        {"category": "sighting", "zip_code": "90033"},
        channel="web",
        idempotency_key="digest-report-1",
    ).report


def test_an_opt_out_is_still_honoured_and_start_undoes_it(net):  # type: ignore[no-untyped-def]
    opt_out("sms", "+1 (323) 555-0177")
    assert is_opted_out("sms", CANARY_PHONE)
    assert not is_opted_out("sms", "+13235550178")
    with transaction.atomic():
        assert (
            queue_message(Address("sms", CANARY_PHONE), "test_message", idempotency_key="o") == []
        )
    assert opt_in("sms", CANARY_PHONE)
    assert not is_opted_out("sms", CANARY_PHONE)
    with transaction.atomic():
        assert (
            len(queue_message(Address("sms", CANARY_PHONE), "test_message", idempotency_key="i"))
            == 1
        )


def test_opt_outs_stored_under_secret_key_are_rekeyed_and_still_honoured(net):  # type: ignore[no-untyped-def]
    # A row as the previous release stored it.
    old = with_secret_key(f"sms:{NUMBER}", LEGACY_OPTOUT_SALT)
    OptOut.objects.create(channel="sms", address_digest=old)
    migration = importlib.import_module(
        "defensa.notify.migrations.0004_optout_digests_under_the_master_key"
    )
    migration.rekey(apps, None)
    [row] = OptOut.objects.all()
    assert row.address_digest != old
    assert brute_force({row.address_digest}, LEGACY_OPTOUT_SALT, "sms:") == []
    assert is_opted_out("sms", CANARY_PHONE)
    # STOP again: the row moves to the current scheme; START removes it either way.
    opt_out("sms", CANARY_PHONE)
    [renewed] = OptOut.objects.all()
    assert renewed.address_digest not in (old, row.address_digest)
    assert is_opted_out("sms", CANARY_PHONE)
    assert opt_in("sms", CANARY_PHONE) and OptOut.objects.count() == 0


def test_rotating_the_master_key_keeps_every_digest(settings):  # type: ignore[no-untyped-def]
    opt_out("sms", CANARY_PHONE)
    before = sender_digest(CANARY_PHONE)
    settings.MASTER_KEYS = f"{NEW},{current_master_entries()}"
    call_command("rotate_master_key", verbosity=0)
    settings.MASTER_KEYS = NEW  # the old master key retired
    assert is_opted_out("sms", CANARY_PHONE)
    assert sender_digest(CANARY_PHONE) == before
