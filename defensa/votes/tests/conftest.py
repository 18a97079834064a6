from __future__ import annotations

import pytest

from defensa.testing.peers.twilio import AUTH_TOKEN
from defensa.votes.tests.helpers import BASE


@pytest.fixture(autouse=True)
def _webhook(settings):  # type: ignore[no-untyped-def]
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = BASE
    settings.SITE_URL = BASE


@pytest.fixture(autouse=True)
def _fresh_ballot_gate():  # type: ignore[no-untyped-def]
    from defensa.votes.views import ballot_gate

    ballot_gate.reset()
    yield
    ballot_gate.reset()


from defensa.notify.testing import smtp_server  # noqa: E402

__all__ = ["smtp_server"]
