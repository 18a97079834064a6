"""Context for organising messages, built at send time from the ids a Delivery stores.

The link a worker gets is made again from the test's and the worker's ids when the message is
rendered: the outbox holds no token.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from defensa.notify import messages as notify_messages


def _test_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.organising.actions import link_token
    from defensa.organising.models import StructureTest, Worker

    test = StructureTest.objects.filter(pk=stored.get("test") or 0).first()
    context: dict[str, Any] = {"test": test, "outcome": stored.get("outcome", "")}
    if test is None:
        return context
    context.update(title=test.title, code=test.code)
    worker = Worker.objects.filter(pk=stored.get("worker") or 0).first()
    if worker is not None:
        path = reverse("organising:take_part", kwargs={"token": link_token(test, worker)})
        context["link"] = settings.SITE_URL.rstrip("/") + path
    return context


def register() -> None:
    for key in ("structure_test_link", "structure_test_sms_reply"):
        notify_messages.register_context(key, _test_context)
    # Who gets these is who works at an organised workplace: no deliveries page shows them.
    notify_messages.register_compartment(
        notify_messages.SEALED, "structure_test_link", "structure_test_sms_reply"
    )
    notify_messages.register_label("structure_test_link", _("Your link to say you took part"))
    notify_messages.register_label(
        "structure_test_sms_reply", _("The answer to a text saying you took part")
    )
