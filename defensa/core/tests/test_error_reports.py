"""Security property 21: errors and logs don't leak what was posted or who posted it.

A view crashes with DEBUG off while handling a form full of sensitive values. Neither the
log output nor an error report (what `mail_admins` or an error tracker would be sent)
contains those values or the visitor's address and browser.
"""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from django.core.signals import got_request_exception
from django.test import Client
from django.views.debug import ExceptionReporter
from pytest_django.fixtures import Settings

from defensa.core.logging import SafeExceptionReporterFilter
from defensa.core.tests.canary import CANARY_IP, CANARY_UA, record_text
from defensa.core.tests.urls_boom import BOOM

POSTED = {
    "password": "canary-Passw0rd-!x",
    "phone": "+12135550142",
    "a_number": "A209876543",
    "notes": "canary-note: kids at Garfield Elementary",
}
SECRETS = [*POSTED.values(), CANARY_IP, CANARY_UA]


def crash() -> tuple[Any, list[str]]:
    """POST the sensitive form to the crashing view; return the response and error reports."""
    reports: list[str] = []

    def report(sender: object, request: Any, **kwargs: object) -> None:
        # Called inside Django's `except` block, as an error reporter would be.
        for is_email in (False, True):
            reporter = ExceptionReporter(request, *sys.exc_info(), is_email=is_email)
            reports.append(reporter.get_traceback_text())
            reports.append(reporter.get_traceback_html())

    got_request_exception.connect(report)
    try:
        response = Client(raise_request_exception=False).post(
            "/boom/",
            POSTED,
            REMOTE_ADDR=CANARY_IP,
            HTTP_X_FORWARDED_FOR=CANARY_IP,
            HTTP_USER_AGENT=CANARY_UA,
        )
    finally:
        got_request_exception.disconnect(report)
    return response, reports


@pytest.mark.urls("defensa.core.tests.urls_boom")
def test_a_crash_leaks_no_posted_values_nor_metadata(
    all_logs: pytest.LogCaptureFixture, console: io.StringIO, settings: Settings
) -> None:
    settings.DEBUG = False
    response, reports = crash()
    assert response.status_code == 500
    body = response.content.decode()
    logged = console.getvalue()
    records = [record_text(r) for r in all_logs.records]
    # The crash was really logged and reported, so an absence below means something.
    assert BOOM in logged
    assert any(BOOM in r for r in records)
    assert len(reports) == 4 and all(BOOM in r for r in reports)
    assert all("phone" in r and "a_number" in r for r in reports[:1])  # fields named, not shown
    # The HTML report still lists the crashing frame's variables, with masked values.
    assert (
        "detained" in reports[1] and SafeExceptionReporterFilter.cleansed_substitute in reports[1]
    )
    leaks = [
        f"{where}: {secret!r}"
        for where, text in [("response", body), ("console log", logged)]
        + [(f"log record {i}", t) for i, t in enumerate(records)]
        + [(f"error report {i}", t) for i, t in enumerate(reports)]
        for secret in SECRETS
        if secret in text
    ]
    assert leaks == [], "\n".join(leaks)


def test_filter_masks_sensitive_post_fields_by_name(rf: Any, settings: Settings) -> None:
    settings.DEBUG = False
    request = rf.post("/x/", {**POSTED, "category": "checkpoint", "contact_email": "a@b.c"})
    params = SafeExceptionReporterFilter().get_post_parameters(request)
    assert params["category"] == "checkpoint"  # ordinary fields stay useful for debugging
    for name in (*POSTED, "contact_email"):
        assert params[name] == SafeExceptionReporterFilter.cleansed_substitute


def test_filter_drops_identifying_request_meta(rf: Any) -> None:
    request = rf.get("/x/", HTTP_USER_AGENT=CANARY_UA, HTTP_X_FORWARDED_FOR=CANARY_IP)
    request.META["REMOTE_ADDR"] = CANARY_IP
    meta = SafeExceptionReporterFilter().get_safe_request_meta(request)
    assert CANARY_IP not in repr(meta) and CANARY_UA not in repr(meta)
    assert meta["PATH_INFO"] == "/x/"
