"""One exception for a step an object's state does not allow, and one guard for status tables.

Each object keeps its transitions in one place (its model's table, or its app's one guarded
step function) and refuses a step by raising `IllegalTransition`. `code` names the refusal
(e.g. "not_paused", "answered") for a view that turns it into a translated message; the
exception's text is for logs and tests, in English, and is never shown to anyone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping


class IllegalTransition(ValueError):
    """The step is not possible from the object's state now."""

    def __init__(self, detail: str = "", *, code: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


def check_move(transitions: Mapping[str, Collection[str]], current: str, target: str) -> None:
    """Raise IllegalTransition unless the table allows `current -> target`."""
    if target not in transitions:
        raise IllegalTransition(f"unknown state {target!r}", code="unknown")
    if target not in transitions.get(current, ()):
        raise IllegalTransition(f"{current} -> {target} is not allowed", code="not_allowed")
