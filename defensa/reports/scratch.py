"""A private in-memory SQLite database for offline runs (group_reports, benchmarks).

Swapping the default connection for this process only means the very same code path as
live intake runs, while the configured database — SQLite file or PostgreSQL — is never
opened for writing: real data cannot be touched.
"""

from __future__ import annotations

from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend

MEMORY = ":memory:"


def use_memory_database(name: str = MEMORY) -> None:
    """Point this thread's default connection at a fresh, migrated SQLite database.

    `name` may be a file path (benchmarks use a throwaway file to measure real disk writes).
    """
    connections[DEFAULT_DB_ALIAS].close()
    settings_dict = {
        **connections.settings[DEFAULT_DB_ALIAS],
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
        "TEST": {},
    }
    backend = load_backend(settings_dict["ENGINE"])
    connections[DEFAULT_DB_ALIAS] = backend.DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    assert connections[DEFAULT_DB_ALIAS].vendor == "sqlite"  # noqa: S101 (a guard, not a test)
    call_command("migrate", verbosity=0, interactive=False)
