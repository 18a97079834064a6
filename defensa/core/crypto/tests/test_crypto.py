"""Envelope encryption, wrong keys, shredding and master-key rotation (property 14)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from defensa.core import crypto
from defensa.core.crypto.keys import generate_entry, parse
from defensa.core.crypto.models import DataKey
from defensa.core.tests.proc import manage, production_env

OLD = generate_entry("old")
NEW = generate_entry("new")

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_master(settings):  # type: ignore[no-untyped-def]
    settings.MASTER_KEYS = OLD
    return settings


def test_round_trip_and_ciphertext_is_not_plaintext(old_master) -> None:  # type: ignore[no-untyped-def]
    key = crypto.new_key("test")
    blob = crypto.encrypt(key, "A000000000", aad="t#1")
    assert b"A000000000" not in blob
    assert crypto.decrypt(key, blob, aad="t#1") == b"A000000000"
    # A fresh nonce each time: equal plaintexts don't look equal.
    assert crypto.encrypt(key, "A000000000", aad="t#1") != blob
    stored = DataKey.objects.get(pk=key.pk)
    assert stored.master_key_id == "old" and len(bytes(stored.wrapped)) == 12 + 32 + 16


def test_aad_binds_ciphertext_to_its_place(old_master) -> None:  # type: ignore[no-untyped-def]
    key = crypto.new_key("test")
    blob = crypto.encrypt(key, b"secret", aad="reports.report.contact#1")
    with pytest.raises(crypto.WrongKey):
        crypto.decrypt(key, blob, aad="reports.report.contact#2")
    with pytest.raises(crypto.WrongKey):
        crypto.decrypt(key, blob, aad="reports.report.other#1")


def test_another_data_key_or_a_tampered_value_raises(old_master) -> None:  # type: ignore[no-untyped-def]
    key, other = crypto.new_key("test"), crypto.new_key("test")
    blob = crypto.encrypt(key, b"secret", aad="x")
    with pytest.raises(crypto.WrongKey):
        crypto.decrypt(other, blob, aad="x")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(crypto.WrongKey):
        crypto.decrypt(key, tampered, aad="x")
    with pytest.raises(crypto.WrongKey):
        crypto.decrypt(key, b"secret", aad="x")  # plaintext is never passed through


def test_wrong_or_missing_master_key_raises(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MASTER_KEYS = OLD
    key = crypto.new_key("test")
    blob = crypto.encrypt(key, b"secret", aad="x")
    # Same id, other bytes: the wrapped key does not open.
    settings.MASTER_KEYS = "old:" + NEW.split(":", 1)[1]
    with pytest.raises(crypto.WrongKey, match="does not unwrap"):
        crypto.decrypt(DataKey.objects.get(pk=key.pk), blob, aad="x")
    # The id is not configured at all.
    settings.MASTER_KEYS = NEW
    with pytest.raises(crypto.WrongKey, match="not configured"):
        crypto.decrypt(DataKey.objects.get(pk=key.pk), blob, aad="x")


def test_shredded_key_raises_and_old_copies_die_with_their_master_key(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MASTER_KEYS = OLD
    key = crypto.new_key("test")
    blob = crypto.encrypt(key, "A000000000", aad="x")
    # What yesterday's backup holds: the row as it was before the shred.
    backup_copy = DataKey.objects.get(pk=key.pk)
    crypto.shred(key)
    with pytest.raises(crypto.KeyShredded):
        crypto.decrypt(DataKey.objects.get(pk=key.pk), blob, aad="x")
    assert DataKey.objects.get(pk=key.pk).wrapped is None
    # Rotation re-wraps only live keys; once the old master key is retired, the backup's
    # copy of the shredded key is noise too.
    settings.MASTER_KEYS = f"{NEW},{OLD}"
    call_command("rotate_master_key", verbosity=0)
    settings.MASTER_KEYS = NEW
    with pytest.raises(crypto.WrongKey):
        crypto.decrypt(backup_copy, blob, aad="x")


def test_rotation_rewraps_keys_without_touching_ciphertext(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MASTER_KEYS = OLD
    keys = [crypto.new_key("test") for _ in range(3)]
    blobs = [crypto.encrypt(k, f"value {i}", aad=f"x#{i}") for i, k in enumerate(keys)]
    shredded = crypto.new_key("test")
    crypto.shred(shredded)
    before = {k.pk: bytes(k.wrapped) for k in DataKey.objects.filter(wrapped__isnull=False)}

    settings.MASTER_KEYS = f"{NEW},{OLD}"
    out = io.StringIO()
    call_command("rotate_master_key", stdout=out)
    assert "3 data key(s) re-wrapped under 'new'" in out.getvalue()
    assert "remove it from DEFENSA_MASTER_KEYS" in out.getvalue()
    after = DataKey.objects.filter(wrapped__isnull=False)
    assert {k.master_key_id for k in after} == {"new"}
    assert all(bytes(k.wrapped) != before[k.pk] for k in after)
    assert DataKey.objects.get(pk=shredded.pk).wrapped is None  # stays shredded

    # Only the new master key from now on: everything still opens, with the same ciphertext.
    settings.MASTER_KEYS = NEW
    for i, (key, blob) in enumerate(zip(keys, blobs, strict=True)):
        assert crypto.decrypt(DataKey.objects.get(pk=key.pk), blob, aad=f"x#{i}") == (
            f"value {i}".encode()
        )
    # And the old key alone no longer opens anything.
    settings.MASTER_KEYS = OLD
    with pytest.raises(crypto.WrongKey):
        crypto.decrypt(DataKey.objects.get(pk=keys[0].pk), blobs[0], aad="x#0")
    # Running it again is harmless.
    settings.MASTER_KEYS = f"{NEW},{OLD}"
    out = io.StringIO()
    call_command("rotate_master_key", stdout=out)
    assert "0 data key(s)" in out.getvalue()


def test_rotation_without_the_old_key_stops_and_changes_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.management.base import CommandError

    settings.MASTER_KEYS = OLD
    key = crypto.new_key("test")
    settings.MASTER_KEYS = NEW
    with pytest.raises(CommandError, match="keep the old master key"):
        call_command("rotate_master_key", verbosity=0)
    assert DataKey.objects.get(pk=key.pk).master_key_id == "old"


def test_generate_prints_a_usable_entry() -> None:
    out = io.StringIO()
    call_command("rotate_master_key", generate="2027", stdout=out)
    parsed = parse(out.getvalue().strip())
    assert parsed.current_id == "2027" and len(parsed.keys["2027"]) == 32


@pytest.mark.parametrize(
    "raw",
    ["", "nokey", "a:short", "a:" + "!" * 44, f"{OLD},{OLD}", "bad id:" + OLD.split(":")[1]],
    # Named, not shown: the keys are random per run, and parallel workers must collect the same.
    ids=["empty", "no-colon", "short", "not-base64", "duplicate-id", "id-with-space"],
)
def test_malformed_master_keys_are_refused(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse(raw)


def test_development_key_outside_production(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MASTER_KEYS = ""
    settings.MASTER_KEY_DEV_FILE = tmp_path / "dev_master_key"
    key = crypto.new_key("test")
    assert key.master_key_id == "dev"
    assert (tmp_path / "dev_master_key").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_a_master_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    assert manage(env, "check").returncode == 0
    del env["DEFENSA_MASTER_KEYS"]
    done = manage(env, "check")
    assert done.returncode != 0
    assert "DEFENSA_MASTER_KEYS" in done.stderr
    assert not (tmp_path / "dev_master_key").exists()
    # A secret file works like the variable; a malformed key stops the process too.
    key_file = tmp_path / "master_keys"
    key_file.write_text(NEW + "\n")
    assert manage({**env, "DEFENSA_MASTER_KEYS_FILE": str(key_file)}, "check").returncode == 0
    bad = manage({**env, "DEFENSA_MASTER_KEYS": "x:tooshort"}, "check")
    assert bad.returncode != 0 and "32 bytes" in bad.stderr
