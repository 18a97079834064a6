"""Fixtures for the core (security baseline) tests."""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Iterator

import pytest


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (with its scrub filter) actually writes."""
    handlers = {
        h
        for name in ("", "django", "django.request", "django.security")
        for h in logging.getLogger(name).handlers
        if isinstance(h, logging.StreamHandler)
        and not isinstance(h, logging.FileHandler)
        # pytest's own capture handlers are not part of the project's logging config.
        and type(h).__module__.startswith("logging")
    }
    assert handlers, "the project's console log handler was not found"
    sink = io.StringIO()
    previous = {h: h.setStream(sink) for h in handlers}
    yield sink
    for handler, stream in previous.items():
        handler.setStream(stream)  # type: ignore[arg-type]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger at DEBUG, including those that do not propagate."""
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    levels = {lg: lg.level for lg in loggers}
    isolated = [lg for lg in loggers if not lg.propagate]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    for lg in isolated:
        lg.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    yield caplog
    for lg in isolated:
        lg.removeHandler(caplog.handler)
    for lg, level in levels.items():
        lg.setLevel(level)


@pytest.fixture
def path(tmp_path, django_db_blocker):  # type: ignore[no-untyped-def]
    """A WAL database file of its own (not the test database) with one table `t (id, v)`,
    for the SQLite backend's and the group commit's tests."""
    path = tmp_path / "lock.sqlite3"
    setup = sqlite3.connect(str(path))
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    setup.commit()
    setup.close()
    with django_db_blocker.unblock():
        yield path
