"""The pieces every app's access helpers share, and the one transition guard."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from defensa.core.access import active_user, pk_from_url, reference_from_url
from defensa.core.transitions import IllegalTransition, check_move


@pytest.mark.parametrize("value", ["1", 1, "9223372036854775807"])
def test_pk_from_url_takes_ids_the_database_can_hold(value: object) -> None:
    assert pk_from_url(value) == int(value)  # type: ignore[call-overload]


@pytest.mark.parametrize("value", ["0", "-3", "9223372036854775808", "1e3", "", "x", None, "1.5"])
def test_pk_from_url_answers_404_for_anything_else(value: object) -> None:
    with pytest.raises(Http404):
        pk_from_url(value)


def test_reference_from_url_upper_cases_a_reference() -> None:
    assert reference_from_url("ab12cd") == "AB12CD"


@pytest.mark.parametrize("value", ["", "AB-12", "ABCDEFGHI", "AB 12", None, 12, "AB12\n"])
def test_reference_from_url_answers_404_for_anything_else(value: object) -> None:
    with pytest.raises(Http404):
        reference_from_url(value)


class _Person:
    is_authenticated = True

    def __init__(self, active: bool) -> None:
        self.is_active = active


def test_active_user_is_only_a_signed_in_active_person() -> None:
    person = _Person(active=True)
    assert active_user(person) is person
    assert active_user(_Person(active=False)) is None
    assert active_user(AnonymousUser()) is None
    assert active_user(None) is None


TABLE = {"a": frozenset({"b"}), "b": frozenset({"a", "c"}), "c": frozenset()}


def test_check_move_follows_the_table() -> None:
    check_move(TABLE, "a", "b")
    check_move(TABLE, "b", "c")
    with pytest.raises(IllegalTransition) as refused:
        check_move(TABLE, "a", "c")
    assert refused.value.code == "not_allowed"
    assert str(refused.value) == "a -> c is not allowed"
    with pytest.raises(IllegalTransition) as unknown:
        check_move(TABLE, "c", "z")
    assert unknown.value.code == "unknown"


def test_illegal_transition_is_a_value_error_with_a_code() -> None:
    refused = IllegalTransition(code="not_paused")
    assert isinstance(refused, ValueError)
    assert (refused.code, str(refused)) == ("not_paused", "not_paused")
    assert IllegalTransition("nothing to withdraw").code == ""
