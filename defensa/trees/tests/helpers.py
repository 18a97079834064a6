"""Shared pieces of the phone tree tests: a built tree, and texts through the signed webhook."""

from __future__ import annotations

import itertools

from defensa.notify.transports.twilio import signature
from defensa.testing.peers.twilio import AUTH_TOKEN
from defensa.trees import actions
from defensa.trees.models import Tree

BASE = "https://defensa.example.org"
PATH = "/notify/twilio/inbound/"
_sids = itertools.count(1)


def build(net) -> Tree:  # type: ignore[no-untyped-def]
    """Boyle Heights' tree: dani and vero are captains; ana, lucia, mo and pat are placed."""
    return actions.create_tree(
        net.boyle, name="Boyle Heights tree", captains=[net.dani, net.vero], actor=net.ana
    )


def text(client, body: str, *, number: str):  # type: ignore[no-untyped-def]
    params = {
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": f"SM{next(_sids):032d}",
    }
    header = signature(AUTH_TOKEN, f"{BASE}{PATH}", params)
    return client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)
