"""Weekly shifts in wall-clock time, across daylight-saving changes in Los Angeles.

2026-03-08: clocks jump from 02:00 PST to 03:00 PDT (02:xx does not exist).
2026-11-01: clocks fall back from 02:00 PDT to 01:00 PST (01:xx happens twice).
Both are Sundays.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from defensa.committees.models import Membership, Shift, Weekday

pytestmark = pytest.mark.django_db

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
UTC = dt.UTC


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.fixture
def vero(net) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=net.vero, committee=net.boyle)


def _shift(m: Membership, weekday: int, start: str, end: str) -> Shift:
    return Shift.objects.create(
        membership=m,
        weekday=weekday,
        start=dt.time.fromisoformat(start),
        end=dt.time.fromisoformat(end),
    )


def _on(m: Membership, at: dt.datetime) -> bool:
    fresh = Membership.objects.select_related("committee").prefetch_related("shifts").get(pk=m.pk)
    return fresh.is_on_shift(at)


def test_plain_shift(vero):
    _shift(vero, Weekday.TUESDAY, "18:00", "22:00")
    # 2026-06-02 is a Tuesday; PDT is UTC-7.
    assert not _on(vero, utc(2026, 6, 3, 0, 59))  # 17:59
    assert _on(vero, utc(2026, 6, 3, 1, 0))  # 18:00
    assert _on(vero, utc(2026, 6, 3, 4, 59))  # 21:59
    assert not _on(vero, utc(2026, 6, 3, 5, 0))  # 22:00, the end is exclusive


def test_spring_forward_sunday_0100_0300(vero):
    _shift(vero, Weekday.SUNDAY, "01:00", "03:00")
    assert not _on(vero, utc(2026, 3, 8, 8, 59))  # 00:59 PST
    assert _on(vero, utc(2026, 3, 8, 9, 0))  # 01:00 PST
    assert _on(vero, utc(2026, 3, 8, 9, 59))  # 01:59 PST
    # One second of wall-clock later it is 03:00 PDT: the shift is over after one real hour.
    assert not _on(vero, utc(2026, 3, 8, 10, 0))  # 03:00 PDT
    assert dt.datetime(2026, 3, 8, 3, 0, tzinfo=LA).utcoffset() == dt.timedelta(hours=-7)


def test_fall_back_sunday_0100_0300(vero):
    _shift(vero, Weekday.SUNDAY, "01:00", "03:00")
    assert not _on(vero, utc(2026, 11, 1, 7, 59))  # 00:59 PDT
    assert _on(vero, utc(2026, 11, 1, 8, 0))  # 01:00 PDT (first time)
    assert _on(vero, utc(2026, 11, 1, 8, 30))  # 01:30 PDT
    assert _on(vero, utc(2026, 11, 1, 9, 30))  # 01:30 PST (second time)
    assert _on(vero, utc(2026, 11, 1, 10, 59))  # 02:59 PST
    # The shift lasts three real hours this night.
    assert not _on(vero, utc(2026, 11, 1, 11, 0))  # 03:00 PST


def test_overnight_shift_across_spring_forward(vero):
    # Saturday 22:00 -> Sunday 06:00, the night the clocks jump.
    _shift(vero, Weekday.SATURDAY, "22:00", "06:00")
    assert not _on(vero, utc(2026, 3, 8, 5, 59))  # Sat 21:59 PST
    assert _on(vero, utc(2026, 3, 8, 6, 0))  # Sat 22:00 PST
    assert _on(vero, utc(2026, 3, 8, 9, 59))  # Sun 01:59 PST
    assert _on(vero, utc(2026, 3, 8, 10, 0))  # Sun 03:00 PDT
    assert _on(vero, utc(2026, 3, 8, 12, 59))  # Sun 05:59 PDT
    assert not _on(vero, utc(2026, 3, 8, 13, 0))  # Sun 06:00 PDT: seven real hours in all


def test_overnight_shift_across_fall_back(vero):
    _shift(vero, Weekday.SATURDAY, "22:00", "06:00")
    assert _on(vero, utc(2026, 11, 1, 5, 0))  # Sat 22:00 PDT
    assert _on(vero, utc(2026, 11, 1, 8, 30))  # Sun 01:30 PDT
    assert _on(vero, utc(2026, 11, 1, 9, 30))  # Sun 01:30 PST
    assert _on(vero, utc(2026, 11, 1, 13, 59))  # Sun 05:59 PST
    assert not _on(vero, utc(2026, 11, 1, 14, 0))  # Sun 06:00 PST: nine real hours in all


def test_overnight_shift_wraps_sunday_into_monday(vero):
    _shift(vero, Weekday.SUNDAY, "23:00", "02:00")
    # 2026-06-07 is a Sunday.
    assert _on(vero, utc(2026, 6, 8, 6, 30))  # Sun 23:30 PDT
    assert _on(vero, utc(2026, 6, 8, 8, 30))  # Mon 01:30 PDT
    assert not _on(vero, utc(2026, 6, 8, 9, 0))  # Mon 02:00
    assert not _on(vero, utc(2026, 6, 9, 8, 30))  # Tue 01:30: not a Monday-night shift


def test_committee_time_zone_is_used(vero):
    vero.committee.time_zone = "America/Chicago"
    vero.committee.save()
    _shift(vero, Weekday.TUESDAY, "18:00", "22:00")
    # 18:00 in Chicago (CDT, UTC-5) on 2026-06-02 is 23:00 UTC.
    assert _on(vero, utc(2026, 6, 2, 23, 0))
    # 03:00 UTC is 22:00 in Chicago (over) but 20:00 in Los Angeles (would be on).
    assert not _on(vero, utc(2026, 6, 3, 3, 0))
