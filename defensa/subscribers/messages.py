"""Messages to alert subscribers' numbers: the answer to a keyword text and the web form's
code. The alert itself is dispatch's ("subscriber_alert", defensa/dispatch/messages.py).

Who gets these is a number without an account: no deliveries page shows them (SEALED).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from defensa.notify import messages as notify_messages
from defensa.subscribers.actions import CODE_TEMPLATE, REPLY_TEMPLATE


def _reply_context(stored: dict[str, Any]) -> dict[str, Any]:
    base = settings.SITE_URL.rstrip("/")
    return {"form": base + reverse("subscribers:subscribe")}


def register() -> None:
    notify_messages.register_context(REPLY_TEMPLATE, _reply_context)
    notify_messages.register_compartment(notify_messages.SEALED, REPLY_TEMPLATE, CODE_TEMPLATE)
    notify_messages.register_label(REPLY_TEMPLATE, _("The answer to an alert keyword text"))
    notify_messages.register_label(CODE_TEMPLATE, _("The code confirming an alert subscription"))
