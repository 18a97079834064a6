"""Issue 9, point 7: the printable record carries the latest signed checkpoint, and says so
when the audit chain no longer reaches it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from defensa.audit.checkpoints import write_checkpoint
from defensa.audit.models import AuditEntry
from defensa.record.tests.test_record import confirmed_with_evidence

pytestmark = pytest.mark.django_db


def test_the_record_prints_the_checkpoint_and_reports_truncation(net, client_as):  # type: ignore[no-untyped-def]
    incident = confirmed_with_evidence(net, Client())
    address = f"/incidents/{incident.reference}/record/"
    html = client_as(net.lucia).get(address).content.decode()
    assert "Intact." in html and "No signed checkpoint" in html
    checkpoint = write_checkpoint()
    html = client_as(net.lucia).get(address).content.decode()
    assert "Intact." in html and checkpoint.line() in html
    # The newest entries removed behind the checkpoint's back (plain SQL, as an intruder).
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= %s", [checkpoint.seq - 1])
    assert AuditEntry.objects.filter(seq__gte=checkpoint.seq).count() == 0
    html = client_as(net.lucia).get(address).content.decode()
    assert "Problems found." in html and "truncated" in html
