"""Keep request metadata and sensitive fields out of logs and error reports (property 21)."""

from __future__ import annotations

import logging
import re

from django.views.debug import SafeExceptionReporterFilter as _DjangoFilter

# POST fields whose values never appear in an error report, whatever the view.
SENSITIVE_FIELDS = re.compile(
    r"pass|secret|token|code|otp|phone|contact|email|a_number|name|address|note|text|key|"
    r"credential|signature|instructions",
    re.IGNORECASE,
)


class SafeExceptionReporterFilter(_DjangoFilter):
    hidden_settings = re.compile(
        r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL|DSN", flags=re.I
    )

    def get_post_parameters(self, request):  # type: ignore[no-untyped-def]
        params = super().get_post_parameters(request)
        if request is None:
            return params
        cleaned = params.copy()
        for key in list(cleaned.keys()):
            if SENSITIVE_FIELDS.search(key):
                cleaned[key] = self.cleansed_substitute
        return cleaned

    def get_safe_request_meta(self, request):  # type: ignore[no-untyped-def]
        meta = super().get_safe_request_meta(request)
        return {k: v for k, v in meta.items() if not k.startswith(("HTTP_", "REMOTE_"))}


class ScrubFilter(logging.Filter):
    """Drop the request object that Django attaches to records: it carries metadata."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        return True
