"""Message templates: one plain-text file per message key and channel, in every language.

Files live in `templates/notify/messages/` of any app:

- `<key>.<channel>.txt` the body, with `{% translate %}` / `{% blocktranslate %}` strings
  (Spanish in the app's django.po), rendered inside translation.override(language);
- `<key>.<channel>.<language>.txt`, optional, a whole hand-written body for one language;
- a Signal message or device notification without `<key>.signal.txt` / `<key>.push.txt`
  uses the SMS body (BODY_FALLBACK);
- `<key>.subject.txt` the email subject (one line).

A Delivery stores only the key and the ids in its context. The text is rendered at send time:
nothing an alert says sits in the outbox. An app that needs objects in a message registers a
context builder that loads them from those ids (`register_context`).

Every message kind also declares its compartment where it is registered
(`register_compartment`): who may see its deliveries on the deliveries page (need to know,
security property 4). Network administrators see every kind; coordinators see GENERAL kinds
sent to their committees' members, and LEGAL kinds only where they are on the legal team too.
A kind nobody declared is ADMIN: closed by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template import Context, Engine, Template, TemplateDoesNotExist
from django.utils import translation

if TYPE_CHECKING:
    from defensa.notify.models import Delivery

ContextValue = int | bool | str | None
ContextBuilder = Callable[[dict[str, ContextValue]], dict[str, Any]]

_KEY = re.compile(r"^[a-z0-9_]{1,64}$")
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")
_BUILDERS: dict[str, ContextBuilder] = {}
_LABELS: dict[str, Any] = {}

GENERAL = "general"
LEGAL = "legal"
ADMIN = "admin"
# Kinds whose recipients are themselves a secret (who pledged, before and around a pledge
# campaign's threshold): the deliveries page shows them to nobody, admins included.
SEALED = "sealed"
COMPARTMENTS = (GENERAL, LEGAL, ADMIN, SEALED)
_COMPARTMENTS: dict[str, str] = {}


class UnsafeContext(ValueError):
    """A delivery context holds ids, numbers, booleans and short machine words, never text."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@cache
def _engine() -> Engine:
    # Plain text: no HTML escaping (an "&" in a name must stay "&" in an SMS).
    return Engine(
        app_dirs=True,
        autoescape=False,
        libraries={"i18n": "django.templatetags.i18n"},
    )


def register_context(key: str, builder: ContextBuilder) -> None:
    """Let an app turn a message's stored ids into objects at send time."""
    _BUILDERS[key] = builder


def register_label(key: str, label: Any) -> None:
    """Name a message kind for people (a lazy translation), e.g. on a person's failed messages."""
    _LABELS[key] = label


def register_compartment(compartment: str, *keys: str) -> None:
    """Declare who may see these message kinds' deliveries (GENERAL, LEGAL, ADMIN, SEALED)."""
    if compartment not in COMPARTMENTS:
        raise ValueError(f"unknown compartment {compartment!r}")
    for key in keys:
        _COMPARTMENTS[key] = compartment


def compartment_of(key: str) -> str:
    """A message kind's compartment; ADMIN for a kind never declared."""
    return _COMPARTMENTS.get(key, ADMIN)


def kinds_in(compartment: str) -> list[str]:
    return sorted(k for k, c in _COMPARTMENTS.items() if c == compartment)


def label_for(key: str) -> Any:
    from django.utils.translation import gettext

    return _LABELS.get(key) or gettext("A message from the network")


def check_context(context: dict[str, Any]) -> dict[str, ContextValue]:
    for name, value in context.items():
        if not _KEY.match(name):
            raise UnsafeContext(f"context key {name!r} is not a short lowercase word")
        if value is None or isinstance(value, bool | int):
            continue
        if isinstance(value, str) and _SAFE_TEXT.match(value):
            continue
        raise UnsafeContext(
            f"context value for {name!r} must be an id or a short word, not message text"
        )
    return dict(context)


# A channel without its own body for a message uses another's: a Signal message or a device
# notification is the text message's words unless a `<key>.signal.txt` / `<key>.push.txt`
# says otherwise.
BODY_FALLBACK = {"signal": "sms", "push": "sms"}


def _body_template(key: str, channel: str, language: str) -> Template:
    names = [
        f"notify/messages/{key}.{channel}.{language}.txt",
        f"notify/messages/{key}.{channel}.txt",
    ]
    fallback = BODY_FALLBACK.get(channel)
    if fallback:
        names += [
            f"notify/messages/{key}.{fallback}.{language}.txt",
            f"notify/messages/{key}.{fallback}.txt",
        ]
    return _engine().select_template(names)


def check_template(key: str, channel: str) -> None:
    """Raise TemplateDoesNotExist now, in the caller's transaction, not at send time."""
    if not _KEY.match(key):
        raise TemplateDoesNotExist(key)
    _body_template(key, channel, settings.LANGUAGE_CODE)
    if channel == "email":
        _engine().get_template(f"notify/messages/{key}.subject.txt")


def render(delivery: Delivery, cache: dict[Any, dict[str, Any]] | None = None) -> Rendered:
    """Render a delivery's message in its language, from its ids, now.

    `cache` (a dict the caller keeps for one batch of sends) shares what a context builder
    loaded between deliveries with the same template, ids and language: a broadcast's thousand
    deliveries load the broadcast once, not a thousand times.
    """
    stored: dict[str, ContextValue] = dict(delivery.context or {})
    with translation.override(delivery.language):
        context: dict[str, Any] = {
            **stored,
            "network_name": settings.NETWORK_NAME,
            "hotline_number": settings.HOTLINE_NUMBER,
            "recipient": delivery.recipient,
        }
        builder = _BUILDERS.get(delivery.template)
        if builder is not None:
            if cache is None:
                context.update(builder(stored))
            else:
                key = (delivery.template, delivery.language, tuple(sorted(stored.items())))
                if key not in cache:
                    cache[key] = builder(stored)
                context.update(cache[key])
        body = _body_template(delivery.template, delivery.channel, delivery.language).render(
            Context(context, autoescape=False)
        )
        subject = ""
        if delivery.channel == "email":
            template = _engine().get_template(f"notify/messages/{delivery.template}.subject.txt")
            subject = " ".join(template.render(Context(context, autoescape=False)).split())
    return Rendered(subject=subject, body=body.strip() + "\n")


# The delivery engine's own kinds ---------------------------------------------------------


def _checkpoint_context(stored: dict[str, ContextValue]) -> dict[str, Any]:
    import datetime as dt

    return {
        "line": (
            f"ckpt1:{stored['seq']}:{stored['head']}:{stored['at']}:{stored['key']}"
            f":{stored['legacy']}:{stored['prev']}:{stored['mac']}"
        ),
        "when": dt.datetime.fromtimestamp(int(stored["at"] or 0), tz=dt.UTC),
    }


def register() -> None:
    from django.utils.translation import gettext_lazy

    from defensa.notify import sms

    # Keyword answers queued for a gateway are written at send time, in the person's language.
    register_context(sms.REPLY_TEMPLATE, _sms_reply_context)
    register_context("audit_checkpoint", _checkpoint_context)
    register_compartment(GENERAL, sms.REPLY_TEMPLATE, "test_message")
    register_compartment(ADMIN, "purge_failed", "audit_checkpoint", "audit_check_failed")
    register_label("audit_checkpoint", gettext_lazy("The audit log's daily checkpoint"))
    register_label("audit_check_failed", gettext_lazy("The audit log does not verify"))


def _sms_reply_context(stored: dict[str, ContextValue]) -> dict[str, Any]:
    from defensa.notify import sms

    return sms.reply_context(stored)
