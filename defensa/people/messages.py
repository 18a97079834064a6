"""The invitation people get when a coordinator invites them in bulk (by SMS or email)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy

from defensa.core.tokens import derived_token
from defensa.notify import messages

INVITATION = "people_invitation"
LINK_SALT = "defensa.people.invitation"


def invitation_token(nonce: str) -> str:
    """The token of an invitee's link: derived from their nonce under the server's secret."""
    return derived_token(LINK_SALT, nonce)


def _invitation_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.people.models import Invitee

    invitee = Invitee.objects.select_related("committee").filter(pk=stored.get("invitee")).first()
    if invitee is None or not invitee.link_nonce:
        return {"committee_name": "", "link": "", "days": settings.INVITATION_DAYS}
    path = reverse("join:start", kwargs={"token": invitation_token(invitee.link_nonce)})
    return {
        "committee_name": invitee.committee.name,
        "link": settings.SITE_URL.rstrip("/") + path,
        "days": settings.INVITATION_DAYS,
    }


def register() -> None:
    messages.register_context(INVITATION, _invitation_context)
    messages.register_compartment(messages.GENERAL, INVITATION)
    messages.register_label(INVITATION, gettext_lazy("An invitation to join a committee"))
