"""Inbound texts that are not keywords, handed to whichever app registered for them.

notify sits below the apps that use it (reports, dispatch), so it cannot import them; an app
registers a handler in its AppConfig.ready() instead. STOP / START / HELP never reach a
handler: carriers require them to be answered by the delivery engine itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class InboundText:
    """One text as the provider gave it. `sid` is the provider's id, stable across retries."""

    number: str
    body: str
    sid: str
    to: str = ""


Handler = Callable[[InboundText], None]

_HANDLERS: list[Handler] = []


def register_handler(handler: Handler) -> None:
    """Call `handler` for every inbound text that is not a keyword (registered once)."""
    if handler not in _HANDLERS:
        _HANDLERS.append(handler)


def handlers() -> tuple[Handler, ...]:
    return tuple(_HANDLERS)


def dispatch(text: InboundText) -> None:
    """Hand a text to every registered handler. Each handler writes in its own transaction."""
    for handler in tuple(_HANDLERS):
        handler(text)
