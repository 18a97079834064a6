"""Shared fixtures: fast hashing, personas, a signed-in client, and the browser."""

from __future__ import annotations

import os

import pytest

from defensa.core import testing


def pytest_configure(config):  # type: ignore[no-untyped-def]
    from django.conf import settings

    default = settings.DATABASES["default"]
    if default["ENGINE"] == "defensa.core.sqlite":
        # Our engine subclasses Django's sqlite3, which pytest-django does not recognise when it
        # names each parallel worker's test database; say "in memory" outright (each worker is
        # its own process, so each has its own database, as a serial run has).
        default.setdefault("TEST", {})["NAME"] = ":memory:"


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


@pytest.fixture
def net(db):  # type: ignore[no-untyped-def]
    return testing.build_network()


@pytest.fixture
def client_as(client):  # type: ignore[no-untyped-def]
    def _as(user, factor: str = "passkey"):  # type: ignore[no-untyped-def]
        return testing.sign_in(client, user, factor=factor)

    return _as


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
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    pg = context.new_page()
    yield pg
    context.close()
