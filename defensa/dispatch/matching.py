"""Choose the responders nearest an incident: on duty, trained, in the committee."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

import h3
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees.models import Membership, MemberStatus, Shift
from defensa.core import geo
from defensa.incidents.areas import incident_cell
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
# One part of a search: people in this area cell ("" for anywhere), whose language is in
# (True) or not in (False) the incident's languages, or either (None).
Arm = tuple[str, bool | None]


def _eligible(
    incident: Incident,
    at: dt.datetime,
    arms: list[Arm],
    languages: Collection[str] = (),
    limit: int | None = None,
    committees: Collection[int] = (),
    kinds: Collection[str] = (SkillKind.VERIFIER,),
) -> list[Row]:
    """Active full members of the incident's committee (or of `committees`, when a widening
    round reaches further: dispatch.actions.reach_of) with a current verifier skill who are
    on duty at `at` (the switch, or a shift of theirs in one of those committees covering
    it): ids, cells, languages and the switch only; with `limit`, each arm's first by id.

    One plain SQL statement, one SELECT per arm joined by UNION ALL: the dispatch path runs
    it once per step outward, where compiling ORM subqueries each time cost more than the
    lookup. Each arm reads the committee's memberships in its cells from the (committee,
    area_cell, user) index in person order and stops at its limit, checking skill and shifts
    through their indexes.
    """
    q = connection.ops.quote_name
    user, member = q(User._meta.db_table), q(Membership._meta.db_table)
    pool = sorted(set(committees)) or [incident.committee_id]
    inside = "= %s" if len(pool) == 1 else f"IN ({', '.join(['%s'] * len(pool))})"
    # Who is a full member in the arm's cells comes from the memberships' copy of the home
    # cell, by the (committee, area_cell, user) index: a city committee's cells hold other
    # committees' people too, and asking the people's cells joined every verifier skill
    # with every membership of the committee (hundreds of ms at a million members).
    members = (
        f"u.id IN (SELECT m.user_id FROM {member} m "  # noqa: S608 (names and placeholders)
        f"WHERE m.committee_id {inside} AND m.status = %s"
    )
    members_params = [*pool, MemberStatus.FULL.value]
    common, common_params = _on_duty_sql(incident, at, pool, kinds)
    langs = sorted(languages)
    # Without a limit, the arms of one language side are one SELECT over all their cells: a
    # wide search asked hundreds of cells, and PostgreSQL took longer to plan hundreds of
    # arms than to run them (3.8 s for a 2,000-member committee on the loaded machine).
    groups: list[tuple[list[str], bool | None]] = []
    if limit is None:
        by_side: dict[bool | None, list[str]] = {}
        for cell, sharing in arms:
            by_side.setdefault(sharing, []).append(cell)
        groups = [([] if "" in cells else cells, side) for side, cells in by_side.items()]
    else:
        groups = [([cell] if cell else [], sharing) for cell, sharing in arms]
    parts, params = [], []
    for i, (cells, sharing) in enumerate(groups):
        where, arm_params = members, list(members_params)
        if len(cells) == 1:
            where += " AND m.area_cell = %s"
            arm_params += cells
        elif cells:
            where += f" AND m.area_cell IN ({', '.join(['%s'] * len(cells))})"
            arm_params += cells
        where += ") AND "
        if sharing is not None and langs:
            marks = ", ".join(["%s"] * len(langs))
            where += f"u.language {'IN' if sharing else 'NOT IN'} ({marks}) AND "
            arm_params += langs
        elif sharing:  # nobody shares a language with an incident that has none
            continue
        tail, tail_params = "", []
        if limit is not None:
            tail, tail_params = " ORDER BY u.id LIMIT %s", [limit]
        # Only quoted table names and %s placeholders are put into the text; values are params.
        parts.append(
            f"SELECT * FROM (SELECT u.id, u.area_cell, u.language, u.on_duty "  # noqa: S608
            f"FROM {user} u WHERE {where}{common}{tail}) a{i}"
        )
        params += arm_params + common_params + tail_params
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [(pk, cell or "", lang, bool(on)) for pk, cell, lang, on in cursor.fetchall()]


def _on_duty_sql(
    incident: Incident,
    at: dt.datetime,
    pool: list[int],
    kinds: Collection[str] = (SkillKind.VERIFIER,),
    *,
    person_by_person: bool = False,
) -> tuple[str, list]:
    """The SQL (on `u`, the people) and parameters of "active, with a current skill of one of
    `kinds`, on duty at `at` by the switch or a shift in one of the committees of `pool`".

    `person_by_person` asks the shifts of each person read (OFFSET 0 keeps PostgreSQL from
    reading the whole committee's shifts of the moment into a hash first: 150 ms for a city
    committee at a million members, for a query that reads a few hundred people)."""
    local = at.astimezone(incident.committee.tz)  # type: ignore[union-attr]
    q = connection.ops.quote_name
    member, skill, shift = (
        q(Membership._meta.db_table),
        q(Skill._meta.db_table),
        q(Shift._meta.db_table),
    )
    inside = "= %s" if len(pool) == 1 else f"IN ({', '.join(['%s'] * len(pool))})"
    kind = "= %s" if len(kinds) == 1 else f"IN ({', '.join(['%s'] * len(kinds))})"
    sql = (
        "u.is_active = %s "  # noqa: S608 (quoted table names and placeholders only)
        f"AND EXISTS (SELECT 1 FROM {skill} s WHERE s.user_id = u.id AND s.kind {kind} "
        "AND (s.expires_on IS NULL OR s.expires_on >= %s)) "
        f"AND (u.on_duty = %s OR EXISTS (SELECT 1 FROM {shift} sh JOIN {member} m2 "
        f"ON sh.membership_id = m2.id WHERE m2.user_id = u.id AND m2.committee_id {inside} "
        # committees.models.shift_covers, in SQL: a shift of the day, or an overnight one
        # from the day before (start >= end) that has not ended yet.
        'AND ((sh.weekday = %s AND sh.start <= %s AND (sh.start >= sh."end" OR %s < sh."end")) '
        'OR (sh.weekday = %s AND sh.start >= sh."end" AND %s < sh."end"))'
        f"{' OFFSET 0' if person_by_person else ''}))"
    )
    clock = connection.ops.adapt_timefield_value(local.time().replace(tzinfo=None))
    params = [
        True,
        *(str(k) for k in kinds),
        connection.ops.adapt_datefield_value(local.date()),
        True,
        *pool,
        local.weekday(),
        clock,
        clock,
        (local.weekday() - 1) % 7,
        clock,
    ]
    return sql, params


# A cell holding at least this many of a committee's memberships is read in name order from
# the people's (area_cell, name) index; a cell with fewer, by its memberships.
_DENSE_CELL = 200


def _first_by_name(incident: Incident, at: dt.datetime, cells: list[str], n: int) -> list[Row]:
    """On PostgreSQL, `_eligible` of the incident's committee in each of `cells`, only each
    cell's first `n` by name (code point order, as Python sorts; then id), in one statement
    over an array of cells. A city's people live in a few ZIP centres' cells, tens of
    thousands a cell (checking each one's skill and shifts took most of a second): such a
    cell is read from the people's (area_cell, name) index in name order until `n` are on
    duty; a cell with few of the committee's memberships is read by them, as `_eligible`."""
    q = connection.ops.quote_name
    user, member = q(User._meta.db_table), q(Membership._meta.db_table)
    committee = incident.committee_id
    common, common_params = _on_duty_sql(
        incident,
        at,
        [committee],  # type: ignore[list-item]
        person_by_person=True,
    )
    columns = "u.id, u.area_cell, u.language, u.on_duty"
    order = 'ORDER BY u.display_name COLLATE "C", u.id LIMIT %s'
    sql = (
        "SELECT x.id, x.area_cell, x.language, x.on_duty FROM (SELECT c.cell, "  # noqa: S608
        f"(SELECT count(*) FROM (SELECT 1 FROM {member} m WHERE m.committee_id = %s "
        "AND m.area_cell = c.cell LIMIT %s) t) >= %s AS dense "
        "FROM unnest(%s::text[]) AS c(cell)) c CROSS JOIN LATERAL ("
        f"(SELECT {columns} FROM {user} u WHERE c.dense AND u.area_cell = c.cell "
        f"AND EXISTS (SELECT 1 FROM {member} m WHERE m.user_id = u.id "
        f"AND m.committee_id = %s AND m.status = %s) AND {common} {order}) UNION ALL "
        f"(SELECT {columns} FROM {user} u WHERE NOT c.dense AND u.id IN (SELECT m.user_id "
        f"FROM {member} m WHERE m.committee_id = %s AND m.area_cell = c.cell "
        f"AND m.status = %s) AND {common} {order})) x"
    )
    full = MemberStatus.FULL.value
    params = [
        *(committee, _DENSE_CELL, _DENSE_CELL, list(cells)),
        *(committee, full, *common_params, n),
        *(committee, full, *common_params, n),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, cell or "", lang, bool(on)) for pk, cell, lang, on in cursor.fetchall()]


def _among(field: str, ids: Collection[int]) -> Q:
    """`field__in=ids` for thousands of ids (a city committee's people): on PostgreSQL as
    one array, which psycopg's client-side binding reads at once, where a statement of
    thousands of placeholders took it tens of milliseconds to read."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))})
    return Q(**{f"{field}__in": ids})


# The console's names are asked out to these rings around each incident (one query a step
# for the incidents still short of their names), then the committee's everyone at once: at
# most three queries a committee, however many incidents.
_NAME_RINGS = (2, 8)


def nearest_on_duty_names(
    incidents: list[Incident], at: dt.datetime, n: int = 5
) -> dict[int, list[str]]:
    """For the console: per incident (by pk), the names of the `n` on-duty verifiers of its
    committee nearest to it, by rings and then name (as `on_duty_verifiers` sorted would).

    A city committee has thousands on duty, and reading them all took most of a second at a
    million members: each committee's people are asked only in the cells within a few rings
    of its incidents on the page (the memberships' (committee, area_cell, user) index, as
    `nearest_responders`), widening only for the incidents that did not find `n` there, and
    the whole committee at once only past `_NAME_RINGS` (or for an incident with no place,
    or near a pentagon, where grid distances fail). Ids and home cells only; distances are
    worked out once per distinct home cell, and names read only for the people at the ring
    distances that can make an incident's first `n`.
    """
    by_committee: dict[int, list[Incident]] = {}
    for incident in incidents:
        if incident.committee_id is not None:
            by_committee.setdefault(incident.committee_id, []).append(incident)
    wanted: dict[int, list[list[int]]] = {}  # incident -> people at each needed ring distance
    for group in by_committee.values():
        wanted.update(_nearest_levels(group, at, n))
    for incident in incidents:
        wanted.setdefault(incident.pk, [])
    needed = {pk for levels in wanted.values() for people in levels for pk in people}
    names = dict(User.objects.filter(_among("pk", needed)).values_list("pk", "display_name"))
    found: dict[int, list[str]] = {}
    for incident_pk, levels in wanted.items():
        out: list[str] = []
        for people in levels:
            out.extend(sorted(names[pk] for pk in people if pk in names))
        found[incident_pk] = out[:n]
    return found


def _nearest_levels(
    incidents: list[Incident], at: dt.datetime, n: int
) -> dict[int, list[list[int]]]:
    """`nearest_on_duty_names` for one committee's incidents: per incident, its on-duty
    verifiers grouped by ring distance, nearest first, as many distances as make `n`."""
    targets = {incident.pk: incident_cell(incident) for incident in incidents}
    homes: dict[str, list[int]] = {}  # home cell -> people, for the cells asked so far
    distance: dict[tuple[str, str], int] = {}

    def rings(cell: str, target: str) -> int:
        found = distance.get((cell, target))
        if found is None:
            found = distance[cell, target] = rings_between(cell, target)
        return found

    def ask(cells: list[str], into: dict[str, list[int]]) -> None:
        # Everyone in one cell is at the same distance from an incident, so only a cell's
        # first n by name can be among its first n: PostgreSQL reads just those (by the
        # people's (area_cell, name) index); SQLite, a committee's install, the cells whole.
        if cells and connection.vendor == "postgresql":
            rows = _first_by_name(incidents[0], at, cells, n)
        else:
            rows = _eligible(incidents[0], at, [(cell, None) for cell in cells] or [("", None)])
        for pk, cell, _lang, _on in rows:
            into.setdefault(cell, []).append(pk)

    # Once every cell within `last` rings of an incident has been asked, the people found at
    # those distances are all there are (grid distances hold away from pentagons): with `n`
    # of them, nobody farther can be among its first `n`, whoever else was found.
    short = [i for i in incidents if targets[i.pk] and not _near_pentagon(targets[i.pk])]
    wide = [i for i in incidents if i not in short]  # no place, or near a pentagon
    asked: set[str] = set()
    for last in _NAME_RINGS:
        if not short:
            break
        cells = {c for i in short for c in h3.grid_disk(targets[i.pk], last)} - asked
        if cells:
            ask(sorted(cells), homes)
            asked |= cells
        short = [
            i
            for i in short
            if sum(len(p) for c, p in homes.items() if rings(c, targets[i.pk]) <= last) < n
        ]
    # The rest rank everyone in the committee (its nearest may be anywhere).
    everyone: dict[str, list[int]] = {}
    if wide or short:
        ask([], everyone)
    out: dict[int, list[list[int]]] = {}
    for incident in incidents:
        target = targets[incident.pk]
        levels: dict[int, list[int]] = {}
        found = everyone if incident in wide or incident in short else homes
        for cell, people in found.items():
            levels.setdefault(rings(cell, target), []).extend(people)
        chosen, count = [], 0
        for away in sorted(levels):
            if count >= n:
                break
            chosen.append(levels[away])
            count += len(levels[away])
        out[incident.pk] = chosen
    return out


def on_duty_verifiers(incident: Incident, at: dt.datetime) -> list[User]:
    """Active full members of the incident's committee with a current verifier skill who are
    on duty (the switch) or on a shift now."""
    return on_duty_with(incident, at, (SkillKind.VERIFIER,))


def on_duty_with(incident: Incident, at: dt.datetime, kinds: Collection[str]) -> list[User]:
    """Active full members of the incident's committee with a current skill of one of `kinds`
    who are on duty (the switch) or on a shift now, by id: who they are is asked in one SQL
    statement (`_eligible`), and only they are loaded (a city committee's legal team read
    whole, with every shift, took seconds at a million members)."""
    if incident.committee_id is None:
        return []
    keep = [row[0] for row in _eligible(incident, at, [("", None)], kinds=kinds)]
    return list(User.objects.filter(_among("pk", keep)).order_by("pk"))


# The search asks ring 0, then out to rings 2 and 4 one area cell at a time (each cell's
# first n by id), then out to ring 10 and 16 (~40 km) whole; beyond that it ranks everyone
# left in one pass instead.
_RING_STEPS = ((0, True), (2, True), (4, True), (10, False), (16, False))
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
    committees: Collection[int] = (),
) -> list[Candidate]:
    """The `n` best responders for the incident, nearest first (shared language preferred),
    among the verifiers of the incident's committee, or of `committees` when given.

    Ranked by (rings - bonus, rings, id), where the bonus is LANGUAGE_BONUS_RINGS for a
    responder who speaks a language of the incident's reports. The database is asked outward
    ring by ring around the incident's cell (indexed `User.area_cell`) until nobody farther
    out could still rank among the first `n`; only ids, cells and languages are loaded until
    then, and the people themselves for the chosen few.
    """
    at = at or timezone.now()
    n = max(n, 0)
    if n == 0 or incident.committee_id is None:
        return []
    target = incident_cell(incident)
    languages = report_languages(incident)
    bonus = LANGUAGE_BONUS_RINGS if languages else 0
    excluded = set(exclude)
    pool = tuple(committees)
    sides: list[bool | None] = [True, False] if languages else [None]
    distance: dict[str, int] = {}  # per distinct cell: hundreds of people share one

    def usable(rows: list[Row]) -> list[Row]:
        return [row for row in rows if row[0] not in excluded]

    def ranked(rows: list[Row]) -> list[tuple[tuple[int, int, int], bool]]:
        out = []
        for pk, cell, language, _on in rows:
            rings = distance.get(cell)
            if rings is None:
                rings = distance[cell] = rings_between(cell, target)
            shares = language in languages
            out.append(((rings - (bonus if shares else 0), rings, pk), shares))
        return out

    def side_of(row: Row) -> Arm:
        return (row[1], None if not languages else row[2] in languages)

    def per_cell(cells: list[str]) -> list[Row]:
        # Everyone in one cell on one language side has the same rings and bonus, so they
        # rank by id alone: past the first n who are on duty and not excluded, none can be
        # among the best n. An arm that filled its limit but kept fewer than n is asked whole.
        limit = n + len(excluded)
        rows = _eligible(
            incident, at, [(c, side) for c in cells for side in sides], languages, limit, pool
        )
        kept = usable(rows)
        asked = Counter(side_of(row) for row in rows)
        kept_per_arm = Counter(side_of(row) for row in kept)
        short = {arm for arm, count in asked.items() if count >= limit and kept_per_arm[arm] < n}
        if not short:
            return kept
        whole = usable(_eligible(incident, at, sorted(short, key=str), languages, None, pool))
        return [row for row in kept if side_of(row) not in short] + whole

    found: list[tuple[tuple[int, int, int], bool]] = []
    complete = False
    if target and not _near_pentagon(target):
        done = -1  # every ring up to this one has been asked
        for last, one_by_one in _RING_STEPS:
            cells = sorted(c for k in range(done + 1, last + 1) for c in h3.grid_ring(target, k))
            done = last
            if one_by_one:
                found.extend(ranked(per_cell(cells)))
            else:
                arms: list[Arm] = [(c, None) for c in cells]
                found.extend(ranked(usable(_eligible(incident, at, arms, (), None, pool))))
            found.sort()
            # Anyone not found yet is at least done + 1 rings away, so ranks at best
            # (done + 1 - bonus, done + 1, id): stop once the n-th found ranks before that.
            if len(found) >= n and found[n - 1][0] < (done + 1 - bonus, done + 1, 0):
                complete = True
                break
    if not complete:
        found = sorted(ranked(usable(_eligible(incident, at, [("", None)], (), None, pool))))
    chosen = found[:n]
    users = User.objects.in_bulk([key[2] for key, _shares in chosen])
    return [Candidate(users[key[2]], key[1], shares) for key, shares in chosen]
