from __future__ import annotations

import pytest

from defensa.notify.testing import smtp_server
from defensa.notify.tests.twilio_peer import twilio_peer

__all__ = ["smtp_server", "twilio_peer"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):  # type: ignore[no-untyped-def]
    # Production's manifest storage needs `collectstatic` first; tests render without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
