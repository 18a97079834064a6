"""Choose the responders nearest an incident: on duty, trained, in the committee."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Collection
from dataclasses import dataclass

import h3
from django.db import connection
from django.db.models import F
from django.utils import timezone

from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees.models import Membership, MemberStatus, Shift
from defensa.core import geo
from defensa.incidents.models import Incident

# A shared language is worth this many neighbourhood cells (~1.4 km each) of extra distance:
# a Spanish speaker two cells farther beats an English-only one next door, not one across town.
LANGUAGE_BONUS_RINGS = 2
# Responders whose home area is unknown sort after everyone whose area is known.
UNKNOWN_DISTANCE = 10_000
_CELL_EDGE_KM = 1.4


@dataclass(frozen=True)
class Candidate:
    user: User
    rings: int  # h3 grid distance at the neighbourhood resolution (UNKNOWN_DISTANCE if none)
    shares_language: bool

    @property
    def rank(self) -> tuple[int, int, int]:
        bonus = LANGUAGE_BONUS_RINGS if self.shares_language else 0
        return (self.rings - bonus, self.rings, self.user.pk)


def incident_cell(incident: Incident) -> str:
    """The neighbourhood cell of the incident: its centroid, else its reports' first ZIP."""
    if incident.lat is not None and incident.lon is not None:
        return geo.cell_for(incident.lat, incident.lon)
    for zip_code in incident.reports.exclude(zip_code="").values_list("zip_code", flat=True)[:5]:  # type: ignore[attr-defined]
        centre = geo.zip_centroid(zip_code)
        if centre is not None:
            return geo.cell_for(*centre)
    return ""


def home_cell(user: User) -> str:
    """A responder's coarse home cell: the one they chose, else their ZIP's centre."""
    return geo.home_area_cell(user.home_cell, user.home_zip)


def rings_between(a: str, b: str) -> int:
    if not a or not b:
        return UNKNOWN_DISTANCE
    try:
        return int(h3.grid_distance(a, b))
    except (h3.H3BaseException, ValueError):
        # Far apart or across a pentagon: h3 gives up; the straight line does not.
        (lat1, lon1), (lat2, lon2) = geo.cell_center(a), geo.cell_center(b)
        km = 6371 * math.dist(
            (math.radians(lat1), math.radians(lon1) * math.cos(math.radians((lat1 + lat2) / 2))),
            (math.radians(lat2), math.radians(lon2) * math.cos(math.radians((lat1 + lat2) / 2))),
        )
        return min(UNKNOWN_DISTANCE - 1, int(km / _CELL_EDGE_KM) + 1)


def report_languages(incident: Incident) -> set[str]:
    return set(incident.reports.values_list("language", flat=True).distinct())  # type: ignore[attr-defined]


Row = tuple[int, str, str, bool]  # user id, area cell, language, on-duty switch


def _eligible(incident: Incident, at: dt.datetime, cells: list[str] | None = None) -> list[Row]:
    """Active full members of the incident's committee with a current verifier skill who are
    on duty (the switch) or have a shift (whether it covers `at` is `_on_duty`'s question),
    in the given area cells (None: anywhere). Ids, cells, languages and the switch only.

    One plain SQL statement: it runs once per ring on the dispatch path, where compiling
    three ORM subqueries each time cost more than the lookup itself. It walks the
    `area_cell` index and checks membership, skill and shifts through their unique indexes.
    """
    today = at.astimezone(incident.committee.tz).date()  # type: ignore[union-attr]
    q = connection.ops.quote_name
    user, member = q(User._meta.db_table), q(Membership._meta.db_table)
    skill, shift = q(Skill._meta.db_table), q(Shift._meta.db_table)
    where, params = "", []
    if cells is not None:
        if not cells:
            return []
        where = f"u.area_cell IN ({', '.join(['%s'] * len(cells))}) AND "
        params = list(cells)
    # Only quoted table names and %s placeholders are put into the text; values are params.
    sql = (
        f"SELECT u.id, u.area_cell, u.language, u.on_duty FROM {user} u "  # noqa: S608
        f"WHERE {where}u.is_active = %s "
        f"AND EXISTS (SELECT 1 FROM {member} m WHERE m.user_id = u.id "
        "AND m.committee_id = %s AND m.status = %s) "
        f"AND EXISTS (SELECT 1 FROM {skill} s WHERE s.user_id = u.id AND s.kind = %s "
        "AND (s.expires_on IS NULL OR s.expires_on >= %s)) "
        f"AND (u.on_duty = %s OR EXISTS (SELECT 1 FROM {shift} sh JOIN {member} m2 "
        "ON sh.membership_id = m2.id WHERE m2.user_id = u.id AND m2.committee_id = %s))"
    )
    params += [
        True,
        incident.committee_id,
        MemberStatus.FULL.value,
        SkillKind.VERIFIER.value,
        connection.ops.adapt_datefield_value(today),
        True,
        incident.committee_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, cell or "", lang, bool(on)) for pk, cell, lang, on in cursor.fetchall()]


def _on_duty(rows: list[Row], incident: Incident, at: dt.datetime) -> list[Row]:
    """The rows whose person is on duty now: the switch, or a shift covering `at`."""
    off = [pk for pk, _cell, _lang, on in rows if not on]
    if not off:
        return rows
    local = at.astimezone(incident.committee.tz)  # type: ignore[union-attr]
    shifts = Shift.objects.filter(
        membership__committee_id=incident.committee_id, membership__user_id__in=off
    ).annotate(person=F("membership__user_id"))
    covered = {shift.person for shift in shifts if shift.covers(local)}  # type: ignore[attr-defined]
    return [row for row in rows if row[3] or row[0] in covered]


def on_duty_verifiers(incident: Incident, at: dt.datetime) -> list[User]:
    """Active full members of the incident's committee with a current verifier skill who are
    on duty (the switch) or on a shift now."""
    if incident.committee_id is None:
        return []
    keep = {row[0] for row in _on_duty(_eligible(incident, at), incident, at)}
    return list(User.objects.filter(pk__in=keep).order_by("pk"))


# The search asks ring 0, then out to ring 2, 5, 10, 16 (~40 km); beyond that it ranks
# everyone left in one pass instead.
_RING_STEPS = (0, 2, 5, 10, 16)
# Near one of h3's twelve pentagons grid distances can fail; rank by a full pass there.
_PENTAGON_KM = 300


@functools.lru_cache(maxsize=1024)
def _near_pentagon(cell: str) -> bool:
    lat, lon = geo.cell_center(cell)
    return any(
        h3.great_circle_distance((lat, lon), geo.cell_center(p), unit="km") < _PENTAGON_KM
        for p in h3.get_pentagons(geo.AREA_RESOLUTION)
    )


def nearest_responders(
    incident: Incident,
    n: int,
    *,
    exclude: Collection[int] = (),
    at: dt.datetime | None = None,
) -> list[Candidate]:
    """The `n` best responders for the incident, nearest first (shared language preferred).

    Ranked by (rings - bonus, rings, id), where the bonus is LANGUAGE_BONUS_RINGS for a
    responder who speaks a language of the incident's reports. The database is asked ring by
    ring around the incident's cell (indexed `User.area_cell`) until nobody farther out could
    still rank among the first `n`; only ids, cells and languages are loaded until then.
    """
    at = at or timezone.now()
    n = max(n, 0)
    if n == 0 or incident.committee_id is None:
        return []
    target = incident_cell(incident)
    languages = report_languages(incident)
    bonus = LANGUAGE_BONUS_RINGS if languages else 0
    excluded = set(exclude)

    distance: dict[str, int] = {}  # per distinct cell: hundreds of people share one

    def ranked(rows: list[Row]) -> list[tuple[tuple[int, int, int], bool]]:
        out = []
        for pk, cell, language, _on in _on_duty(rows, incident, at):
            if pk in excluded:
                continue
            rings = distance.get(cell)
            if rings is None:
                rings = distance[cell] = rings_between(cell, target)
            shares = language in languages
            out.append(((rings - (bonus if shares else 0), rings, pk), shares))
        return out

    found: list[tuple[tuple[int, int, int], bool]] = []
    complete = False
    if target and not _near_pentagon(target):
        done = -1  # every ring up to this one has been asked
        for last in _RING_STEPS:
            cells = [c for k in range(done + 1, last + 1) for c in h3.grid_ring(target, k)]
            found.extend(ranked(_eligible(incident, at, sorted(cells))))
            found.sort()
            done = last
            # Anyone not found yet is at least done + 1 rings away, so ranks at best
            # (done + 1 - bonus, done + 1, id): stop once the n-th found ranks before that.
            if len(found) >= n and found[n - 1][0] < (done + 1 - bonus, done + 1, 0):
                complete = True
                break
    if not complete:
        found = sorted(ranked(_eligible(incident, at)))
    chosen = found[:n]
    users = User.objects.in_bulk([key[2] for key, _shares in chosen])
    return [Candidate(users[key[2]], key[1], shares) for key, shares in chosen]
