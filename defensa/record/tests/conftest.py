"""Record tests post reports and store media: the report tests' own fixtures (plain static
storage, media in a temporary folder, a fresh flood gate), kept in one place."""

from __future__ import annotations

from defensa.reports.tests.conftest import (  # noqa: F401 - autouse fixtures, used by name
    _fresh_flood_gate,
    _media_in_tmp,
    _plain_static_storage,
)
