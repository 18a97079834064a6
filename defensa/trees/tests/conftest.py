from __future__ import annotations

import pytest

from defensa.testing.peers.twilio import AUTH_TOKEN
from defensa.trees.tests.helpers import BASE


@pytest.fixture(autouse=True)
def _webhook(settings):  # type: ignore[no-untyped-def]
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = BASE
    settings.SITE_URL = BASE
