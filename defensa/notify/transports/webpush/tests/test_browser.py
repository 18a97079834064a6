"""In Debian's Chromium: the settings page's control appears, the service worker registers
from /sw.js at the root scope and activates, and nothing logs an error (CSP included).

Real delivery through a browser's push service is not tested here: headless Chromium has no
push service to subscribe to. The loopback peer covers the protocol (test_transport.py).
"""

from __future__ import annotations

import pytest
from django.test import Client

from defensa.core.testing import sign_in
from defensa.notify.transports.webpush import keys

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_control_and_service_worker_in_chromium(net, browser, live_server, settings):  # type: ignore[no-untyped-def]
    settings.WEBPUSH_VAPID_PRIVATE_KEY = keys.generate()[0]
    client = sign_in(Client(), net.mo)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    context.grant_permissions(["notifications"])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/me/profile/")
        # push.js found Web Push and showed the control: "turn on" (no subscription yet).
        page.wait_for_selector('#push-control [data-push="on"]', state="visible")
        assert page.is_hidden('#push-control [data-push="off"]')
        assert page.is_hidden('[data-push="ios"]')
        # The page does not register a worker by itself: only turning notifications on does.
        assert page.evaluate("navigator.serviceWorker.getRegistration('/').then(r => !!r)") is False

        manifest = page.evaluate(
            "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
        )
        assert manifest["display"] == "standalone"

        scope = page.evaluate(
            """navigator.serviceWorker.register('/sw.js', {scope: '/'})
                 .then(() => navigator.serviceWorker.ready)
                 .then(reg => reg.active ? reg.scope : '')"""
        )
        assert scope == f"{live_server.url}/"
        # The worker caches nothing: no Cache Storage was created.
        assert page.evaluate("caches.keys()") == []
        assert errors == []
    finally:
        context.close()
