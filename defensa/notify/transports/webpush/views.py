"""Subscribe and unsubscribe a device; the service worker and the web app manifest.

The subscribe/unsubscribe endpoints are called by `static/webpush/push.js` (fetch, JSON
answers); "stop on all devices" and "send a test" are plain forms that work without it.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from defensa.accounts.models import User
from defensa.core.access import public, signed_in
from defensa.notify.transports.webpush import actions, keys
from defensa.notify.transports.webpush.models import PushSubscription
from defensa.notify.transports.webpush.transport import WebPushTransport

THEME_COLOR = "#b3261e"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _answer(ok: bool, message: str, status: int = 200) -> JsonResponse:
    return JsonResponse({"ok": ok, "message": message}, status=status)


@signed_in
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    if not WebPushTransport.is_enabled():
        return _answer(False, _("Device notifications are not set up on this network."), 404)
    endpoint = request.POST.get("endpoint", "").strip()
    p256dh = request.POST.get("p256dh", "").strip()
    auth = request.POST.get("auth", "").strip()
    problem = keys.endpoint_problem(endpoint) or keys.keys_problem(p256dh, auth)
    if problem:
        return _answer(False, problem, 400)
    try:
        actions.add_subscription(
            _user(request), endpoint=endpoint, p256dh=p256dh, auth=auth, actor=_user(request)
        )
    except actions.EndpointTaken:
        return _answer(
            False,
            _(
                "This browser already gets notifications for another account. Turn them off "
                "there first (signed in as that person), then try again."
            ),
            409,
        )
    return _answer(True, _("Notifications are on for this device."), 201)


@signed_in
@require_POST
def unsubscribe(request: HttpRequest) -> HttpResponse:
    endpoint = request.POST.get("endpoint", "").strip()
    if not endpoint or len(endpoint) > keys.MAX_ENDPOINT_LENGTH:
        return _answer(False, _("This browser gave an address we cannot use."), 400)
    actions.remove_subscription(_user(request), endpoint=endpoint, actor=_user(request))
    return _answer(True, _("Notifications are off for this device."))


@signed_in
@require_POST
def turn_off(request: HttpRequest) -> HttpResponse:
    removed = actions.turn_off_push(_user(request), actor=_user(request))
    messages.success(
        request,
        ngettext(
            "Device notifications are off. We forgot %(count)d device.",
            "Device notifications are off. We forgot %(count)d devices.",
            removed,
        )
        % {"count": removed},
    )
    return redirect("me:profile")


@signed_in
@require_POST
def test(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not WebPushTransport.is_enabled() or not PushSubscription.objects.filter(user=user).exists():
        messages.error(request, _("No device of yours gets notifications yet."))
        return redirect("me:profile")
    if not user.notify_push:
        messages.error(request, _("Turn notifications on for this device first."))
        return redirect("me:profile")
    actions.send_test_notification(user, actor=user)
    messages.success(request, _("Test notification sent. It should arrive within a minute."))
    return redirect("me:profile")


@public
@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    body = render_to_string(
        "webpush/sw.js",
        {
            "icon": static("webpush/icon-192.png"),
            "badge": static("webpush/badge-96.png"),
            "home": reverse("accounts:home"),
            "network_name": settings.NETWORK_NAME,
        },
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # Browsers look for a new version at every registration; never a stale worker.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@public
@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    """The installable web app: a home-screen icon (on iPhone, what makes push possible)."""
    name = settings.NETWORK_NAME
    data = {
        "name": name,
        "short_name": name[:12],
        "description": _("Rapid response and mutual defence."),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "icons": [
            {"src": static("webpush/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("webpush/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("webpush/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("webpush/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "no-cache"
    return response
