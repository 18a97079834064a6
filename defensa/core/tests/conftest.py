"""Fixtures for the core (security baseline) tests."""

from __future__ import annotations

import io
import logging
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
