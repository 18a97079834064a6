"""The shift roster, read side: coverage of the week by hour and skill, who is on now, and
when a weekly shift next starts.

Shifts are wall-clock windows in the committee's time zone ("Friday 22:00-06:00"), so the
week's grid is in wall-clock hours too and needs no daylight-saving arithmetic. Only turning
a shift into a moment (a reminder, "on now") meets the clock change: `next_start` does it
with zoneinfo, which moves a start inside the spring gap forward by the gap (02:30 becomes
03:30) and takes the first of the two 01:30s in the autumn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees.models import Committee, Membership, MemberStatus, Shift, Weekday

WEEK_MINUTES = 7 * 24 * 60
DAY_MINUTES = 24 * 60

# The skills the roster counts. The dispatcher is a role of the membership; the others are
# skills a coordinator granted (accounts.models.Skill), counted while their training is current.
ROSTER_SKILLS: tuple[tuple[str, object], ...] = (
    ("dispatcher", _("Dispatcher")),
    (SkillKind.VERIFIER.value, SkillKind.VERIFIER.label),
    (SkillKind.HOTLINE.value, SkillKind.HOTLINE.label),
    (SkillKind.ACCOMPANIER.value, SkillKind.ACCOMPANIER.label),
)
ROSTER_SKILL_KEYS = tuple(key for key, _label in ROSTER_SKILLS)


def shift_span(shift: Shift) -> tuple[int, int]:
    """The shift as minutes of the week [start, end); end may pass the week's end (Sunday
    night into Monday), which `covers_span` wraps."""
    start = shift.weekday * DAY_MINUTES + shift.start.hour * 60 + shift.start.minute
    length = (shift.end.hour * 60 + shift.end.minute) - (shift.start.hour * 60 + shift.start.minute)
    if length <= 0:
        length += DAY_MINUTES  # runs past midnight into the next day
    return start, start + length


def covers_span(span: tuple[int, int], begin: int, end: int) -> bool:
    """True when the shift's span covers all of [begin, end) (minutes of the week)."""
    start, stop = span
    return any(start + o <= begin and end <= stop + o for o in (0, -WEEK_MINUTES))


def skills_of(memberships: Iterable[Membership], today: dt.date) -> dict[int, set[str]]:
    """Each membership's roster skills, by membership id (dispatcher from the role)."""
    rows = list(memberships)
    current: dict[int, set[str]] = {}
    for skill in Skill.objects.filter(
        user_id__in=[m.user_id for m in rows], kind__in=ROSTER_SKILL_KEYS
    ):
        if skill.is_current(today):
            current.setdefault(skill.user_id, set()).add(skill.kind)
    found: dict[int, set[str]] = {}
    for membership in rows:
        kinds = set(current.get(membership.user_id, set()))
        if membership.is_dispatcher:
            kinds.add("dispatcher")
        found[membership.pk] = kinds
    return found


def roster_memberships(committee: Committee) -> list[Membership]:
    """The committee's full members with active accounts: the people the roster counts."""
    return list(
        Membership.objects.filter(
            committee=committee, status=MemberStatus.FULL, user__is_active=True
        )
        .select_related("user")
        .prefetch_related("shifts")
        .order_by("user__display_name", "pk")
    )


@dataclass
class Cell:
    weekday: int
    hour: int
    counts: dict[str, int]
    people: int

    def count(self, skill: str) -> int:
        return self.people if skill == "" else self.counts.get(skill, 0)


@dataclass
class Gap:
    weekday: int
    start_hour: int
    hours: int

    @property
    def day_label(self) -> str:
        return str(Weekday(self.weekday).label)

    @property
    def start(self) -> str:
        return f"{self.start_hour:02d}:00"

    @property
    def end(self) -> str:
        return f"{self.start_hour + self.hours:02d}:00"  # "24:00": until midnight


@dataclass
class Coverage:
    """The week by hour: for each day and hour, how many people are on shift for the whole
    hour, in all and with each roster skill."""

    committee: Committee
    days: list[tuple[int, object, dt.date]]  # weekday, its name, this week's date
    rows: list[list[Cell]] = field(default_factory=list)  # 24 rows (hours) of 7 cells

    def gaps(self, skill: str) -> list[Gap]:
        """Runs of hours with nobody (with the skill; "" for anyone), day by day."""
        found: list[Gap] = []
        for weekday in range(7):
            run: Gap | None = None
            for hour in range(24):
                if self.rows[hour][weekday].count(skill) == 0:
                    if run is None:
                        run = Gap(weekday, hour, 0)
                        found.append(run)
                    run.hours += 1
                else:
                    run = None
        return found


def week_days(
    committee: Committee, now: dt.datetime | None = None
) -> list[tuple[int, object, dt.date]]:
    local = (now or timezone.now()).astimezone(committee.tz).date()
    monday = local - dt.timedelta(days=local.weekday())
    return [(day, Weekday(day).label, monday + dt.timedelta(days=day)) for day in range(7)]


def coverage(committee: Committee, now: dt.datetime | None = None) -> Coverage:
    members = roster_memberships(committee)
    today = (now or timezone.now()).astimezone(committee.tz).date()
    skills = skills_of(members, today)
    # One person with two overlapping shifts counts once: count memberships, not shifts.
    covered = {
        m.pk: covered_hours([shift_span(s) for s in m.shifts.all()])  # type: ignore[attr-defined]
        for m in members
    }
    result = Coverage(committee=committee, days=week_days(committee, now))
    for hour in range(24):
        row = []
        for weekday in range(7):
            index = weekday * 24 + hour
            counts = dict.fromkeys(ROSTER_SKILL_KEYS, 0)
            people = 0
            for m in members:
                if index in covered[m.pk]:
                    people += 1
                    for kind in skills[m.pk]:
                        counts[kind] += 1
            row.append(Cell(weekday, hour, counts, people))
        result.rows.append(row)
    return result


def covered_hours(spans: list[tuple[int, int]]) -> set[int]:
    """The hours of the week (weekday * 24 + hour) that one of the spans covers entirely."""
    found: set[int] = set()
    for start, stop in spans:
        for index in range(start // 60, -(-stop // 60) + 1):
            begin = index * 60
            if covers_span((start, stop), begin, begin + 60):
                found.add(index % (7 * 24))
    return found


def on_duty_expired(user: User, now: dt.datetime) -> bool:
    """True when the on-duty switch has outlived DEFENSA_ON_DUTY_HOURS without renewal."""
    if not user.on_duty or user.on_duty_since is None:
        return False
    return user.on_duty_since + dt.timedelta(hours=settings.ON_DUTY_HOURS) <= now


def on_duty_until(user: User) -> dt.datetime | None:
    if not user.on_duty or user.on_duty_since is None:
        return None
    return user.on_duty_since + dt.timedelta(hours=settings.ON_DUTY_HOURS)


@dataclass
class OnNow:
    membership: Membership
    skills: set[str]
    on_shift: bool
    switch_on: bool


def on_now(
    committee: Committee, now: dt.datetime | None = None
) -> tuple[list[OnNow], dict[str, int]]:
    """Who is on now: on shift at this moment, or with the on-duty switch on (and not yet
    expired). Returns the people and each roster skill's head count."""
    now = now or timezone.now()
    local = now.astimezone(committee.tz)
    members = roster_memberships(committee)
    skills = skills_of(members, local.date())
    people: list[OnNow] = []
    for m in members:
        on_shift = any(s.covers(local) for s in m.shifts.all())  # type: ignore[attr-defined]
        switch_on = m.user.on_duty and not on_duty_expired(m.user, now)
        if on_shift or switch_on:
            people.append(OnNow(m, skills[m.pk], on_shift, switch_on))
    counts = {key: sum(1 for p in people if key in p.skills) for key in ROSTER_SKILL_KEYS}
    return people, counts


def next_start(shift: Shift, tz: dt.tzinfo, after: dt.datetime) -> dt.datetime:
    """The first start of the weekly shift at or after `after`, as an aware UTC moment."""
    local_day = after.astimezone(tz).date()
    for offset in range(-1, 9):
        day = local_day + dt.timedelta(days=offset)
        if day.weekday() != shift.weekday:
            continue
        # fold=0: in the autumn the first 01:30; in the spring gap, zoneinfo keeps the old
        # offset, so the start lands the gap's length later on the new clock.
        moment = dt.datetime.combine(day, shift.start, tzinfo=tz).astimezone(dt.UTC)
        if moment >= after:
            return moment
    raise AssertionError("a weekly shift starts within eight days")  # pragma: no cover
