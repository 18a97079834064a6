"""Inbound texts that are not keywords, handed to whichever app registered for them.

notify sits below the apps that use it (reports, dispatch), so it cannot import them; an app
registers a handler in its AppConfig.ready() instead. STOP / START / HELP never reach a
handler: carriers require them to be answered by the delivery engine itself.

An app may also claim texts whose first word is one of its keywords (pledges: "PLEDGE K7Q2"):
such a text goes to that app's handler alone, so it does not also become a report.

A text from one of our own people (a verifier answering an offer) is not a new report either:
an app registers a *matcher*, asked before the handlers; the first matcher that claims the
text (returns True) has dealt with it, and no handler sees it (dispatch: dispatch/sms.py).
A matcher registered `first=True` is asked before the others: one that claims only exact
words in a narrow window (accompaniment: a companion's one-word check-in), so a broader
matcher cannot take its words as free text. A matcher registered `last=True` is asked only
after every other one: a catch-all for texts from our own people that nothing open claimed
(dispatch: a member's message to dispatchers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from defensa.notify import keywords


@dataclass(frozen=True)
class InboundText:
    """One text as the provider gave it. `sid` is the provider's id, stable across retries."""

    number: str
    body: str
    sid: str
    to: str = ""


Handler = Callable[[InboundText], None]
Matcher = Callable[[InboundText], bool]

_HANDLERS: list[Handler] = []
_FIRST_MATCHERS: list[Matcher] = []
_MATCHERS: list[Matcher] = []
_LAST_MATCHERS: list[Matcher] = []
_KEYWORDS: dict[str, Handler] = {}


def register_handler(handler: Handler) -> None:
    """Call `handler` for every inbound text that is not a keyword (registered once)."""
    if handler not in _HANDLERS:
        _HANDLERS.append(handler)


def register_matcher(matcher: Matcher, *, first: bool = False, last: bool = False) -> None:
    """Ask `matcher` first about every text that is not a keyword (registered once); when it
    returns True the text was its sender's answer to something open, and goes no further.
    `first` matchers are asked before the others, `last` ones after all the others, each
    group in the order it registered."""
    found = _FIRST_MATCHERS if first else _LAST_MATCHERS if last else _MATCHERS
    if matcher not in found:
        found.append(matcher)


def register_keyword(words: Iterable[str], handler: Handler) -> None:
    """Send texts whose first word is one of `words` to `handler` alone (registered once)."""
    for word in words:
        claimed = _KEYWORDS.setdefault(keywords.nfc_upper(word), handler)
        if claimed is not handler:
            raise ValueError(f"the keyword {word!r} is already claimed")


def handlers() -> tuple[Handler, ...]:
    return tuple(_HANDLERS)


def first_word(body: str) -> str:
    """The text's first word as keyword tables keep theirs (notify/keywords.py: upper case,
    composed, punctuation aside); compare it with keywords.lookup()."""
    words = body.split(maxsplit=1)
    return keywords.nfc_upper(words[0]) if words else ""


def dispatch(text: InboundText) -> None:
    """Hand a text to the handler claiming its keyword, else to the first matcher claiming it,
    else to every registered handler.

    Each handler writes in its own transaction.
    """
    claimed = keywords.lookup(_KEYWORDS, first_word(text.body))
    if claimed is not None:
        claimed(text)
        return
    for matcher in (*_FIRST_MATCHERS, *_MATCHERS, *_LAST_MATCHERS):
        if matcher(text):
            return
    for handler in tuple(_HANDLERS):
        handler(text)
