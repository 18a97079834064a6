"""Context for tree messages, built at send time from the ids a Delivery stores.

The coordinator's message is the cascade's; the framing (who it is from, that it is a drill,
how to confirm) is translated and rendered in each person's language. The one-tap link's
secret is derived from the reach row when the text is rendered, never stored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from defensa.notify import messages as notify_messages


def _base() -> str:
    return settings.SITE_URL.rstrip("/")


def _context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.trees.actions import reach_token
    from defensa.trees.models import Cascade, Reach

    cascade = (
        Cascade.objects.select_related("tree__committee").filter(pk=stored.get("cascade") or 0)
    ).first()
    if cascade is None:
        return {"cascade": None}
    found: dict[str, Any] = {
        "cascade": cascade,
        "drill": cascade.is_drill,
        "text": cascade.message,
        "committee": cascade.tree.committee.name,
        "captain_page": _base() + reverse("trees:captain", kwargs={"pk": cascade.pk}),
        "people": stored.get("people") or 0,
    }
    reach = Reach.objects.filter(pk=stored.get("reach") or 0, cascade=cascade).first()
    if reach is not None:
        found["link"] = _base() + reverse("trees:confirm", kwargs={"token": reach_token(reach)})
    return found


def register() -> None:
    for key in ("tree_captain", "tree_person", "tree_handover"):
        notify_messages.register_context(key, _context)
    # A cascade's texts name no one but the committee: the deliveries page may show them.
    notify_messages.register_compartment(
        notify_messages.GENERAL, "tree_captain", "tree_person", "tree_handover"
    )
    notify_messages.register_label("tree_captain", _("A phone tree started: reach your group"))
    notify_messages.register_label("tree_person", _("A phone tree message"))
    notify_messages.register_label("tree_handover", _("A captain's group was handed to you"))
