"""Fixtures for the core (security baseline) tests."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Settings) -> None:
    # Production's manifest storage needs `collectstatic` first; tests render without it.
    # (The deployment-gate tests run production settings in a subprocess instead.)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
