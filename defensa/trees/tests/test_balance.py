"""The automatic groups: everyone placed once, none too big, alike in language first."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from defensa.trees.balance import GROUP_SIZE, Someone, balance, capacity_for

LANGS = st.sampled_from(["en", "es"])
AREAS = st.sampled_from(["", "8829a1", "8829a3", "8829b7"])


@given(
    people=st.lists(st.tuples(LANGS, AREAS), max_size=200),
    captains=st.lists(st.tuples(LANGS, AREAS), min_size=1, max_size=25),
)
@settings(max_examples=150, deadline=None)
def test_everyone_placed_once_within_capacity(people, captains) -> None:  # type: ignore[no-untyped-def]
    folks = [Someone(i, lang, area) for i, (lang, area) in enumerate(people)]
    caps = [Someone(1000 + i, lang, area) for i, (lang, area) in enumerate(captains)]
    groups = balance(folks, caps)
    placed = [pid for ids in groups.values() for pid in ids]
    assert sorted(placed) == [p.id for p in folks]
    cap = capacity_for(len(folks), len(caps))
    assert all(len(ids) <= cap for ids in groups.values())
    assert cap == max(GROUP_SIZE, -(-len(folks) // len(caps)))


def test_language_then_area_first() -> None:
    caps = [Someone(100, "en", "a"), Someone(101, "es", "a"), Someone(102, "es", "b")]
    folks = [Someone(i, "es", "b") for i in range(5)] + [Someone(10, "en", "b")]
    groups = balance(folks, caps)
    assert groups[102] == [0, 1, 2, 3, 4]
    assert groups[100] == [10]


def test_groups_even_out_when_one_kind_overflows() -> None:
    caps = [Someone(100, "en", ""), Someone(101, "es", "")]
    folks = [Someone(i, "es", "") for i in range(15)]
    groups = balance(folks, caps)
    assert len(groups[101]) == 10 and len(groups[100]) == 5


def test_no_captains_places_no_one() -> None:
    assert balance([Someone(1, "en", "")], []) == {}
