from __future__ import annotations

import pytest

from defensa.notify.testing import smtp_server

__all__ = ["smtp_server"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):  # type: ignore[no-untyped-def]
    # Production's manifest storage needs `collectstatic` first; tests render without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
