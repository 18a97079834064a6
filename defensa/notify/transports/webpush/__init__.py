"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm message encryption (RFC 8291).

A small Django app of its own (label `webpush`): the subscriptions of each person's devices,
the record of which device already took which delivery, the subscribe/unsubscribe endpoints,
the service worker and the web app manifest. The transport itself is `transport.py`; it is
named in `defensa.notify.transports.REGISTRY` and turns on when `WEBPUSH_VAPID_PRIVATE_KEY`
is set. See docs/channels.md, "Web Push".
"""
