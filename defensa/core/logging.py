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

    def get_traceback_frame_variables(self, request, tb_frame):  # type: ignore[no-untyped-def]
        # Locals hold whatever a view took out of a form (a phone in `phone`, an A-number
        # inside a dict or a QueryDict); no rule by name catches them all, so outside DEBUG
        # a report shows the variables' names, never their values.
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return {name: self.cleansed_substitute for name in tb_frame.f_locals}.items()

    def get_safe_request_meta(self, request):  # type: ignore[no-untyped-def]
        meta = super().get_safe_request_meta(request)
        return {k: v for k, v in meta.items() if not k.startswith(("HTTP_", "REMOTE_"))}


class ScrubFilter(logging.Filter):
    """Drop the request object that Django attaches to records: it carries metadata."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        return True
