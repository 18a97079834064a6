"""Issue 9, point 7: the chain is keyed and anchored outside the database.

Each attack is made the way someone with write access to the database (but not the server's
master key) would make it, with plain SQL, and `verify_audit` must catch it; the legitimate
paths (normal writing, old unkeyed entries, key rotation, checkpoints) must still verify.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from defensa.audit.checkpoints import (
    Checkpoint,
    CheckpointRefused,
    read_checkpoints,
    verify,
    write_checkpoint,
)
from defensa.audit.log import GENESIS, record, walk_chain
from defensa.audit.models import AuditEntry
from defensa.core.crypto.keys import generate_entry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _checkpoint_file(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.log"
    return settings.AUDIT_CHECKPOINT_FILE


def _write(net, n: int = 4) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        record(f"test.step{i}", actor=net.ana, obj=net.boyle, committee=net.boyle, i=i)


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _rehash_from(seq: int, *, keep_keys: bool = True) -> None:
    """What an attacker without the key does after changing entry `seq`: recompute every
    digest from there on and relink, so the plain SHA-256 chain is whole again."""
    prev = AuditEntry.objects.filter(seq=seq - 1).values_list("hash", flat=True).first() or GENESIS
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        entry.prev_hash = prev
        if not keep_keys:
            entry.key_id = ""
            entry.mac = ""
        entry.hash = entry.compute_hash()
        _sql(
            "UPDATE audit_auditentry SET prev_hash=%s, hash=%s, key_id=%s, mac=%s WHERE id=%s",
            [entry.prev_hash, entry.hash, entry.key_id, entry.mac, entry.pk],
        )
        prev = entry.hash


def test_every_entry_is_keyed_and_verifies(net):
    _write(net)
    entries = list(AuditEntry.objects.all())
    assert all(e.key_id and len(e.mac) == 64 for e in entries)
    call_command("verify_audit")


def test_changing_an_entry_and_rehashing_the_rest_is_caught(net):
    _write(net)
    target = AuditEntry.objects.get(action="test.step1")
    _sql("UPDATE audit_auditentry SET actor_id=%s WHERE id=%s", [net.mo.pk, target.pk])
    _rehash_from(target.seq)
    # The plain hash chain is whole again: only the key tells.
    with pytest.raises(CommandError, match=rf"#{target.seq} .*MAC does not match"):
        call_command("verify_audit")


def test_rewriting_everything_as_pre_keying_entries_is_caught_by_a_checkpoint(net):
    _write(net)
    write_checkpoint()
    # Downgrade: every entry made "old" (no key, no MAC) and re-hashed with plain SHA-256.
    _sql("UPDATE audit_auditentry SET actor_id=%s WHERE seq=2", [net.mo.pk])
    _rehash_from(1, keep_keys=False)
    with pytest.raises(CommandError, match="unkeyed entry after #0"):
        call_command("verify_audit")


def test_an_unkeyed_entry_after_keyed_ones_is_caught_without_any_checkpoint(net):
    _write(net)
    _sql("UPDATE audit_auditentry SET actor_id=%s WHERE seq=3", [net.mo.pk])
    _rehash_from(3, keep_keys=False)
    with pytest.raises(CommandError, match="#3 .*unkeyed entry after keyed ones"):
        call_command("verify_audit")


def test_removing_the_newest_entries_is_caught_by_the_checkpoint_file(net):
    _write(net)
    checkpoint = write_checkpoint()
    assert checkpoint.seq == 4
    _sql("DELETE FROM audit_auditentry WHERE seq >= %s", [3])
    # The chain alone still looks whole: it is shorter, not broken.
    assert walk_chain().intact
    with pytest.raises(CommandError, match=r"truncated: the newest entry is #2, .* #4"):
        call_command("verify_audit")


def test_an_emailed_checkpoint_catches_truncation_of_database_and_file_together(net, settings):
    _write(net)
    emailed = write_checkpoint().line()
    # Someone with the whole disk removes the newest entries and empties the file too.
    _sql("DELETE FROM audit_auditentry WHERE seq >= %s", [2])
    settings.AUDIT_CHECKPOINT_FILE.write_text("")
    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit", checkpoint=[emailed])


def test_rewriting_a_checkpointed_entry_is_named(net):
    _write(net)
    write_checkpoint()
    # Replace the newest entry by a fresh, properly keyed one (as a thief of a running
    # process could): the MAC is right, the checkpoint is not.
    last = AuditEntry.objects.get(seq=4)
    _sql("DELETE FROM audit_auditentry WHERE id=%s", [last.pk])
    record("test.other", actor=net.mo)
    with pytest.raises(CommandError, match="rewritten: entry #4"):
        call_command("verify_audit")


def test_forged_or_removed_checkpoint_lines_are_caught(net, settings):
    _write(net, 2)
    write_checkpoint()
    record("test.more", actor=net.ana)
    write_checkpoint()
    record("test.more", actor=net.ana)
    write_checkpoint()
    path = settings.AUDIT_CHECKPOINT_FILE
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    # A line removed from the middle.
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    with pytest.raises(CommandError, match="does not follow the one before"):
        call_command("verify_audit")
    # A line made up without the key (claiming a later head, to hide a rewrite).
    forged = Checkpoint.parse(lines[2])
    forged = Checkpoint(
        forged.seq, "a" * 64, forged.at, forged.key_id, forged.legacy, forged.prev, "b" * 64
    )
    path.write_text("\n".join([*lines, forged.line()]) + "\n")
    with pytest.raises(CommandError, match="bad signature"):
        call_command("verify_audit")


def test_entries_written_before_keying_verify_under_the_old_rule(net):
    # As the migration left them: no key id, no MAC, a plain SHA-256 link.
    prev = GENESIS
    for seq in (1, 2):
        entry = AuditEntry(
            seq=seq, created_at=timezone.now(), action=f"test.old{seq}", prev_hash=prev
        )
        entry.hash = hashlib.sha256(entry.canonical()).hexdigest()
        entry.save()
        prev = entry.hash
    _write(net, 2)
    report = walk_chain()
    assert report.intact and report.legacy == 2 and report.checked == 4
    checkpoint = write_checkpoint()
    assert checkpoint.legacy == 2
    call_command("verify_audit")
    # An old entry changed and re-hashed: the first keyed entry's MAC covers its link.
    _sql("UPDATE audit_auditentry SET action='test.changed' WHERE seq=1", [])
    _rehash_from(1)
    with pytest.raises(CommandError, match="#3 .*MAC does not match"):
        call_command("verify_audit")


def test_rotation_keeps_the_chain_verifiable_after_the_old_key_is_retired(net, settings):
    old, new = generate_entry("k1"), generate_entry("k2")
    settings.MASTER_KEYS = old
    _write(net, 2)
    write_checkpoint()
    settings.MASTER_KEYS = f"{new},{old}"  # rotation: the new key first, the old kept a while
    _write(net, 2)
    assert set(AuditEntry.objects.values_list("key_id", flat=True)) == {"k1", "k2"}
    write_checkpoint()
    call_command("verify_audit")
    settings.MASTER_KEYS = new  # the old key retired and destroyed
    verdict = verify()
    assert verdict.intact, (verdict.chain.why, verdict.problems)
    assert verdict.chain.unkeyed_by_retired == 2
    # An entry under the retired key is still checked by its digest and the later MACs.
    _sql("UPDATE audit_auditentry SET action='test.changed' WHERE seq=2", [])
    assert not verify().intact
    _rehash_from(2)
    with pytest.raises(CommandError, match="#3 .*MAC does not match"):
        call_command("verify_audit")


def test_checkpoints_are_appended_only_when_the_head_moves(net, settings):
    _write(net, 1)
    write_checkpoint()
    write_checkpoint()
    assert len(read_checkpoints()[0]) == 1
    record("test.more", actor=net.ana)
    write_checkpoint()
    found, problems = read_checkpoints()
    assert [c.seq for c in found] == [1, 2] and problems == []
    assert oct(settings.AUDIT_CHECKPOINT_FILE.stat().st_mode & 0o777) == "0o600"


def test_no_checkpoint_is_written_over_a_bad_entry_or_a_truncated_chain(net):
    _write(net, 2)
    _sql("UPDATE audit_auditentry SET mac=%s WHERE seq=1", ["0" * 64])
    record("test.later", actor=net.ana)  # a good entry after the bad one
    with pytest.raises(CheckpointRefused, match="#1 "):
        write_checkpoint()
    assert read_checkpoints()[0] == []


def test_no_checkpoint_is_written_once_the_chain_fell_behind_the_last(net):
    _write(net, 3)
    write_checkpoint()
    _sql("DELETE FROM audit_auditentry WHERE seq=3", [])
    record("test.instead", actor=net.ana)  # a valid new #3, not the one checkpointed
    with pytest.raises(CheckpointRefused, match="#3 "):
        write_checkpoint()
    assert len(read_checkpoints()[0]) == 1
