"""Shared fixtures: fast hashing, personas, a signed-in client, the loopback peers, the browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from defensa.core import testing
from defensa.testing import axe
from defensa.testing.peers import gateway, geocoder, s3, signal, twilio, voice, webpush


def pytest_configure(config):  # type: ignore[no-untyped-def]
    from django.conf import settings

    default = settings.DATABASES["default"]
    if default["ENGINE"] == "defensa.core.sqlite":
        # Our engine subclasses Django's sqlite3, which pytest-django does not recognise when it
        # names each parallel worker's test database; say "in memory" outright (each worker is
        # its own process, so each has its own database, as a serial run has).
        default.setdefault("TEST", {})["NAME"] = ":memory:"
    elif default["ENGINE"].endswith("postgresql"):
        # Each parallel worker's test database is a copy of the migrated template instead of a
        # migration of its own (defensa/core/tests/migrated.py); Django's migrate then finds
        # nothing left to apply.
        from defensa.core.tests import migrated

        default.setdefault("TEST", {})["TEMPLATE"] = migrated.pg_template(default)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):  # type: ignore[no-untyped-def]
    # Argon2 is the production hasher (a test asserts it); the suite needs speed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _test_settings(settings):  # type: ignore[no-untyped-def]
    # The hashed-manifest storage needs collectstatic; tests serve files straight from apps.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # A developer's shell may have DEFENSA_DEMO set; tests state demo mode when they need it.
    settings.DEMO = False


@pytest.fixture(autouse=True)
def _fresh_place_names():  # type: ignore[no-untyped-def]
    """Each test reads the neighbourhood names its own database holds (a rolled-back test
    leaves none behind, and a rollback sends no signal to the process's short-lived copy)."""
    from defensa.committees.areas import forget_place_names

    forget_place_names()


@pytest.fixture(autouse=True)
def _audit_checkpoints_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Never the developer's own var/audit-checkpoints.log: it anchors another database.
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.log"


@pytest.fixture
def net(db):  # type: ignore[no-untyped-def]
    return testing.build_network()


@pytest.fixture
def client_as(client):  # type: ignore[no-untyped-def]
    def _as(user, factor: str = "passkey"):  # type: ignore[no-untyped-def]
        return testing.sign_in(client, user, factor=factor)

    return _as


# Loopback peers (defensa/testing/peers/), each started on a free port with our settings
# pointed at it; the transport under test really speaks HTTP to it.


@pytest.fixture
def s3_peer(settings: Any) -> Iterator[s3.S3Peer]:
    """An S3-compatible object store (moto's server); files go there, sealed."""
    with s3.S3Peer().running() as peer:
        settings.STORAGES = {**settings.STORAGES, "media": peer.storage()}
        settings.MEDIA_ENCRYPT = True
        yield peer


@pytest.fixture
def twilio_peer(settings: Any) -> Iterator[twilio.TwilioPeer]:
    """Twilio's Messages API; the Twilio transport sends through it."""
    with twilio.TwilioPeer().running() as peer:
        settings.TWILIO_API_BASE = peer.base_url
        settings.TWILIO_ACCOUNT_SID = twilio.ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = twilio.AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER = twilio.FROM_NUMBER
        settings.TWILIO_WEBHOOK_BASE_URL = "https://defensa.example.org"
        settings.TWILIO_TIMEOUT = 5
        settings.TWILIO_RATE = ""
        settings.NOTIFY_CONSOLE = False
        yield peer


@pytest.fixture
def gateway_peer(settings: Any) -> Iterator[gateway.GatewayPeer]:
    """An SMS gateway phone; the gateway transport sends through it."""
    with gateway.GatewayPeer().running() as peer:
        settings.SMS_GATEWAY_URL = peer.base_url
        settings.SMS_GATEWAY_USERNAME = gateway.USERNAME
        settings.SMS_GATEWAY_PASSWORD = gateway.PASSWORD
        settings.SMS_GATEWAY_RATE = ""
        settings.SMS_GATEWAY_TIMEOUT = 5
        settings.SMS_GATEWAY_WEBHOOK_TOKEN = gateway.WEBHOOK_TOKEN
        settings.SMS_GATEWAY_SIGNING_KEY = gateway.SIGNING_KEY
        # Only the gateway: no Twilio in front of it, no console fallback behind it.
        settings.TWILIO_ACCOUNT_SID = ""
        settings.NOTIFY_CONSOLE = False
        yield peer


@pytest.fixture
def signal_peer(settings: Any) -> Iterator[signal.SignalPeer]:
    """A signal-cli daemon; the Signal transport sends through it."""
    with signal.SignalPeer().running() as peer:
        settings.SIGNAL_RPC_URL = peer.base_url
        settings.SIGNAL_ACCOUNT = signal.ACCOUNT
        settings.SIGNAL_RATE = ""
        settings.SIGNAL_TIMEOUT = 5
        settings.NOTIFY_CONSOLE = False
        yield peer


@pytest.fixture
def push_peer(settings: Any) -> Iterator[webpush.PushPeer]:
    """A Web Push service and its devices, with a fresh VAPID key pair for us."""
    from defensa.notify.transports.webpush import keys

    private, public = keys.generate()
    with webpush.PushPeer(vapid_public_key=public).running() as peer:
        settings.WEBPUSH_VAPID_PRIVATE_KEY = private
        settings.WEBPUSH_VAPID_SUBJECT = "mailto:alerts@defensa.test"
        settings.WEBPUSH_ALLOWED_HOSTS = ["http://127.0.0.1"]
        settings.WEBPUSH_RATE = ""
        settings.WEBPUSH_TIMEOUT = 5
        settings.WEBPUSH_TTL = 3600
        settings.NOTIFY_CONSOLE = False
        yield peer


@pytest.fixture
def geocoder_peer(settings: Any) -> Iterator[geocoder.GeocoderPeer]:
    """The operator's own Nominatim (`peer.mode` makes it slow or wrong)."""
    with geocoder.GeocoderPeer().running() as peer:
        settings.GEOCODER_URL = peer.base_url
        settings.GEOCODER_KIND = "nominatim"
        settings.GEOCODER_TIMEOUT_SECONDS = 1
        yield peer


@pytest.fixture
def voice_peer(settings: Any, client: Any) -> Iterator[voice.VoicePeer]:
    """Twilio Voice: places calls through the test client, serves the recordings."""
    with voice.VoicePeer(
        post=voice.client_poster(client), fetch=voice.client_fetcher(client)
    ).running() as peer:
        settings.TWILIO_API_BASE = peer.base_url
        settings.TWILIO_ACCOUNT_SID = twilio.ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = twilio.AUTH_TOKEN
        settings.TWILIO_WEBHOOK_BASE_URL = voice.BASE
        settings.TWILIO_TIMEOUT = 5
        yield peer


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright. Missing Chromium is a failure, not a skip."""
    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: make test installs it"
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are ordinary synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield axe.WatchedBrowser(chromium, axe.WATCH)
        chromium.close()


@pytest.fixture(autouse=True)
def _axe_on_every_page(request):  # type: ignore[no-untyped-def]
    """Every page a browser test visits is checked by axe-core (WCAG 2.2 A and AA).

    Any violation fails the test; see defensa/testing/axe for how pages are watched.
    """
    if "browser" not in request.fixturenames:
        yield
        return
    axe.WATCH.reset()
    yield
    axe.WATCH.settle_all()
    assert not axe.WATCH.found, "axe-core found accessibility violations:\n" + axe.WATCH.summary()


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    pg = context.new_page()
    yield pg
    context.close()
