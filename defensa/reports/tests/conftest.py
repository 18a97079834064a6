"""Fixtures for the report form tests."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from defensa.reports.flood import gate


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Settings) -> None:
    # Production's manifest storage needs `collectstatic` first; tests render without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_flood_gate():  # type: ignore[no-untyped-def]
    gate.reset()
    yield
    gate.reset()


from defensa.core.tests.tiles import tile_server  # noqa: E402

__all__ = ["tile_server"]
