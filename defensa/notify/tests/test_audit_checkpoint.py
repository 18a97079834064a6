"""Issue 9, point 7: checkpoints of the audit chain reach the network administrators."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from defensa.audit.checkpoints import read_checkpoints
from defensa.audit.log import record
from defensa.audit.models import AuditEntry
from defensa.notify.messages import render
from defensa.notify.models import Delivery, Priority

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _checkpoint_file(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.log"


def test_a_checkpoint_is_written_and_sent_to_admins_in_their_language(net):
    net.admin.language = "es"
    net.admin.save(update_fields=["language"])
    record("test.one", actor=net.ana)
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    [checkpoint], problems = read_checkpoints()
    assert problems == [] and checkpoint.line() in out.getvalue()
    [delivery] = Delivery.objects.filter(template="audit_checkpoint")
    assert delivery.recipient_id == net.admin.pk
    body = render(delivery).body
    assert checkpoint.line() in body
    assert "Guarda este mensaje" in body
    # The line from the message is what an administrator gives verify_audit later.
    call_command("verify_audit", checkpoint=[checkpoint.line()], stdout=io.StringIO())
    # Once a day to the admins; the file gets a line whenever the head moved.
    record("test.two", actor=net.ana)
    call_command("audit_checkpoint", stdout=io.StringIO())
    assert len(read_checkpoints()[0]) == 2
    assert Delivery.objects.filter(template="audit_checkpoint").count() == 1
    assert AuditEntry.objects.filter(action="audit.checkpoint_sent").count() == 1


def test_no_checkpoint_vouches_for_a_head_written_without_the_key(net):
    record("test.one", actor=net.ana)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET mac=%s", ["0" * 64])
    with pytest.raises(CommandError, match="no checkpoint written"):
        call_command("audit_checkpoint", stdout=io.StringIO())
    assert read_checkpoints()[0] == []
    # The administrators hear of it at once, urgently, once a day.
    [alert] = Delivery.objects.filter(template="audit_check_failed")
    assert alert.recipient_id == net.admin.pk and alert.priority == Priority.URGENT
    assert "#1" in render(alert).body
    with pytest.raises(CommandError):
        call_command("audit_checkpoint", stdout=io.StringIO())
    assert Delivery.objects.filter(template="audit_check_failed").count() == 1
