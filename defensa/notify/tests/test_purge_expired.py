"""Retention (property 17): every classified lifetime is enforced, with a frozen clock.

The clock is an argument (`purge(now=...)`): the test moves it, nothing is patched.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from PIL import Image

from defensa.audit.models import AuditEntry
from defensa.core import crypto
from defensa.core.crypto.models import DataKey
from defensa.core.retention import plan, purge
from defensa.core.tests.canary import CANARY_PHONE
from defensa.evidence.photos import clean_photo
from defensa.incidents.models import Incident, TimelineEntry
from defensa.notify.models import Delivery, Status
from defensa.reports.actions import receive_report
from defensa.reports.models import Photo, Report, SmsText

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def a_photo():  # type: ignore[no-untyped-def]
    raw = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(raw, "JPEG")
    raw.seek(0)
    return clean_photo(raw, too_big="big", not_image="no")


def a_report(**extra):  # type: ignore[no-untyped-def]
    data = {"category": "sighting", "zip_code": "90033", "contact": CANARY_PHONE, **extra}
    return receive_report(
        data, channel="web", idempotency_key="retention-1", photos=[a_photo()]
    ).report


def test_every_lifetime_has_an_anchor() -> None:
    labels = {model._meta.label_lower for model, *_ in plan()}
    assert {"reports.report", "reports.photo", "reports.smstext", "sessions.session"} <= labels


def test_contact_is_shredded_after_30_days_report_after_180_photo_with_the_incident(
    net, settings, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    report = a_report()
    t0 = report.created_at
    key_pk = report.data_key_id
    blob = bytes(report.contact)
    photo_path = Path(settings.MEDIA_ROOT) / Photo.objects.get().file
    assert photo_path.exists()

    purge(now=t0 + 29 * DAY)
    report.refresh_from_db()
    assert crypto.unseal(report, "contact") == CANARY_PHONE

    result = purge(now=t0 + 31 * DAY)
    report.refresh_from_db()
    assert report.contact is None and report.data_key is None
    assert result.blanked["reports.report.contact"] == 1 and result.shredded == 1
    # The key is gone (a copy of the ciphertext, as in a backup, is noise without it).
    assert not DataKey.objects.filter(pk=key_pk).exists()
    assert blob  # kept only to show what a backup would still hold
    assert Report.objects.filter(pk=report.pk).exists() and photo_path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        result = purge(now=t0 + 181 * DAY)
    assert not Report.objects.filter(pk=report.pk).exists()
    # The photo is evidence for court: it stays with the incident (cases/tests/test_legal_hold).
    assert Photo.objects.get().incident_id == report.incident_id and photo_path.exists()
    # The incident (730 days) outlives its reports, then goes with its timeline and evidence.
    assert Incident.objects.filter(pk=report.incident_id).exists()
    with django_capture_on_commit_callbacks(execute=True):
        purge(now=t0 + 731 * DAY)
    assert not Incident.objects.exists() and not TimelineEntry.objects.exists()
    assert not Photo.objects.exists()
    assert not photo_path.exists(), "the photo file goes with its row"


def test_an_incident_still_referenced_by_a_younger_report_is_kept(net):  # type: ignore[no-untyped-def]
    first = a_report()
    incident = first.incident
    # A report of the same incident arrives much later (it joined the open incident).
    Incident.objects.filter(pk=incident.pk).update(created_at=first.created_at - 800 * DAY)
    result = purge(now=first.created_at + 10 * DAY)
    assert Incident.objects.filter(pk=incident.pk).exists()
    assert result.kept_referenced["incidents.incident"] == 1


def test_sms_threads_last_a_day_and_queued_messages_are_never_purged(net):  # type: ignore[no-untyped-def]
    report = a_report()
    SmsText.objects.create(message_key="m" * 64, sender="s" * 64, report=report)
    sent = Delivery.objects.create(
        recipient=net.mo,
        channel="email",
        template="test_message",
        status=Status.SENT,
        idempotency_key="old-sent",
    )
    queued = Delivery.objects.create(
        recipient=net.mo,
        channel="email",
        template="test_message",
        status=Status.QUEUED,
        idempotency_key="old-queued",
    )
    now = report.created_at
    purge(now=now + 2 * DAY)
    assert not SmsText.objects.exists()
    purge(now=now + 40 * DAY)
    assert not Delivery.objects.filter(pk=sent.pk).exists()
    assert Delivery.objects.filter(pk=queued.pk).exists()


def test_orphan_data_keys_are_removed_after_a_grace_period(net):  # type: ignore[no-untyped-def]
    key = crypto.new_key("test.orphan")
    purge(now=key.created_at + dt.timedelta(minutes=5))
    assert DataKey.objects.filter(pk=key.pk).exists()
    purge(now=key.created_at + dt.timedelta(hours=2))
    assert not DataKey.objects.filter(pk=key.pk).exists()


def test_the_command_audits_a_pass(net):  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert out.getvalue().startswith("purge_expired: ")
    assert AuditEntry.objects.filter(action="retention.purged").count() == 1


def test_a_failing_purge_alerts_the_network_admins(net):  # type: ignore[no-untyped-def]
    # A real failure: the sessions table is gone (rolled back with the test's transaction).
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE django_session")
    with pytest.raises(CommandError, match="purge_expired failed"):
        call_command("purge_expired", verbosity=0)
    alerts = Delivery.objects.filter(template="purge_failed")
    assert {d.recipient_id for d in alerts} == {net.admin.pk}
    assert alerts.first().status == Status.QUEUED
    assert AuditEntry.objects.filter(action="retention.purge_failed").count() == 1
    # A second failure the same day does not send a second alert.
    with pytest.raises(CommandError):
        call_command("purge_expired", verbosity=0)
    assert Delivery.objects.filter(template="purge_failed").count() == alerts.count()


def test_every_file_column_is_declared_so_its_file_goes_with_the_row() -> None:
    # A file path column not in MEDIA_FIELDS would leave the file behind when the row expires.
    from django.apps import apps
    from django.db import models

    missing = [
        f"{model._meta.label_lower}.{f.name}"
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if (isinstance(f, models.FileField) or f.name == "file" or f.name.endswith("_file"))
        and f.name not in getattr(model, "MEDIA_FIELDS", ())
    ]
    assert missing == [], "add these to the model's MEDIA_FIELDS: " + ", ".join(missing)
