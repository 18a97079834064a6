"""The VAPID key: made by a command, read in every common form, checked at start-up."""

from __future__ import annotations

import io
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.checks import run_checks
from django.core.management import CommandError, call_command

from defensa.notify.transports.webpush import keys
from defensa.testing.peers.webpush import b64d, verify_vapid


def test_the_command_prints_a_key_pair_that_belongs_together(settings):
    out = io.StringIO()
    call_command("webpush_keys", stdout=out)
    text = out.getvalue()
    private = text.split("WEBPUSH_VAPID_PRIVATE_KEY=")[1].split()[0]
    public = text.split("browsers are given it): ")[1].split()[0]
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    assert keys.application_server_key() == public
    assert len(b64d(public)) == 65


def test_the_command_writes_a_private_file_and_never_overwrites(tmp_path, settings):
    path = tmp_path / "vapid.key"
    call_command("webpush_keys", file=str(path), stdout=io.StringIO())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    settings.WEBPUSH_VAPID_PRIVATE_KEY = path.read_text().strip()
    assert keys.application_server_key()
    with pytest.raises(CommandError):
        call_command("webpush_keys", file=str(path), stdout=io.StringIO())


def test_pem_and_der_keys_are_read_too(settings):
    raw, public = keys.generate()
    key = keys._parse_private(raw)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    der = keys.b64url_encode(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    for form in (pem, der):
        settings.WEBPUSH_VAPID_PRIVATE_KEY = form
        assert keys.application_server_key() == public


def test_the_authorization_header_is_a_valid_rfc_8292_token(settings):
    private, public = keys.generate()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_SUBJECT = ""
    settings.DEFAULT_FROM_EMAIL = "alerts@defensa.test"
    header = keys.authorization("https://fcm.googleapis.com/fcm/send/abc")
    claims = verify_vapid(header, public, "https://fcm.googleapis.com")
    assert claims["sub"] == "mailto:alerts@defensa.test"


def test_check_reports_an_unusable_key_or_subject(settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY = "not a key"
    assert "webpush.E001" in {e.id for e in run_checks()}
    settings.WEBPUSH_VAPID_PRIVATE_KEY = keys.generate()[0]
    settings.WEBPUSH_VAPID_SUBJECT = "ops@example.org"  # no mailto:
    assert "webpush.E002" in {e.id for e in run_checks()}
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@example.org"
    assert not {e.id for e in run_checks()} & {"webpush.E001", "webpush.E002"}
