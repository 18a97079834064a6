from __future__ import annotations

import pytest


@pytest.fixture
def subscribe(push_peer):  # type: ignore[no-untyped-def]
    """Give a person a subscribed device (what the browser and our subscribe view do)."""
    from django.db import transaction

    from defensa.notify.transports.webpush import actions

    def _subscribe(user, device=None):  # type: ignore[no-untyped-def]
        device = device or push_peer.new_device()
        with transaction.atomic():
            actions.add_subscription(
                user, endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth, actor=user
            )
        user.refresh_from_db()
        return device

    return _subscribe
