"""`manage.py check` says so when the VAPID key or subject cannot be used."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from defensa.notify.transports.webpush import keys

_SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$")


@register()
def vapid_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if not settings.WEBPUSH_VAPID_PRIVATE_KEY:
        return []
    errors = []
    try:
        keys.vapid()
    except keys.KeyError_ as exc:
        errors.append(Error(str(exc), hint="manage.py webpush_keys makes one.", id="webpush.E001"))
    if not _SUBJECT.match(keys.subject()):
        errors.append(
            Error(
                "WEBPUSH_VAPID_SUBJECT must be mailto:someone@example.org or an https:// URL",
                id="webpush.E002",
            )
        )
    return errors
