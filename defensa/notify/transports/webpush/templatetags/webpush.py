"""`{% push_control %}`: the device-notification settings on a person's settings page."""

from __future__ import annotations

from typing import Any

from django import template

from defensa.notify.transports.webpush import keys
from defensa.notify.transports.webpush.models import PushSubscription
from defensa.notify.transports.webpush.transport import WebPushTransport

register = template.Library()


@register.inclusion_tag("webpush/_control.html", takes_context=True)
def push_control(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    enabled = WebPushTransport.is_enabled() and user.is_authenticated
    return {
        "enabled": enabled,
        "public_key": keys.application_server_key() if enabled else "",
        "devices": PushSubscription.objects.filter(user=user).count() if enabled else 0,
        "notify_push": getattr(user, "notify_push", False),
        "csrf_token": context.get("csrf_token", ""),
    }
