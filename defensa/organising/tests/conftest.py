from __future__ import annotations

import pytest

from defensa.organising.tests.helpers import BASE
from defensa.testing.peers.twilio import AUTH_TOKEN


@pytest.fixture(autouse=True)
def _webhook(settings):  # type: ignore[no-untyped-def]
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = BASE
    settings.SITE_URL = BASE


@pytest.fixture(autouse=True)
def _fresh_link_gate():  # type: ignore[no-untyped-def]
    from defensa.organising.views import link_gate

    link_gate.reset()
    yield
    link_gate.reset()
