import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from defensa.audit.log import UnsafeAuditData, record, verify_chain
from defensa.audit.models import AppendOnlyError, AuditEntry

pytestmark = pytest.mark.django_db


def _three(net):
    record("test.one", actor=net.ana, obj=net.boyle, committee=net.boyle)
    record("test.two", actor=net.ana, obj=net.mo, committee=net.boyle, count=2)
    record("test.three", actor=None, obj=net.pat)


def test_chain_verifies_and_links(net):
    _three(net)
    checked, bad, _ = verify_chain()
    assert (checked, bad) == (3, None)
    entries = list(AuditEntry.objects.all())
    assert entries[1].prev_hash == entries[0].hash
    call_command("verify_audit")


def test_verify_audit_names_first_altered_entry(net):
    _three(net)
    target = AuditEntry.objects.get(action="test.two")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET actor_id = %s WHERE id = %s", [net.mo.pk, target.pk]
        )
    with pytest.raises(CommandError, match=rf"#{target.seq} .*test\.two"):
        call_command("verify_audit")


def test_deleted_entry_is_found(net):
    _three(net)
    target = AuditEntry.objects.get(action="test.two")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [target.pk])
    with pytest.raises(CommandError, match="test.three"):
        call_command("verify_audit")


def test_entries_are_append_only(net):
    _three(net)
    entry = AuditEntry.objects.first()
    entry.action = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_content_never_goes_into_audit(net):
    with pytest.raises(UnsafeAuditData):
        record("member.note", actor=net.ana, note="Maria was taken at the car wash")
    with pytest.raises(UnsafeAuditData):
        record("member.phone", actor=net.ana, phone="+1 213 555 0101")
    assert AuditEntry.objects.count() == 0
