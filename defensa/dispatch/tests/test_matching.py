"""The ring-by-ring responder search chooses exactly whom a brute-force scan would."""

from __future__ import annotations

import datetime as dt

import h3
import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.accounts.models import Language, Skill, SkillKind, User
from defensa.committees.models import Membership, MemberStatus, Shift
from defensa.core import geo
from defensa.dispatch import matching
from defensa.dispatch.tests.helpers import BOYLE, report_incident
from defensa.incidents.areas import incident_cell

pytestmark = pytest.mark.django_db

TARGET = geo.cell_for(*BOYLE)
NEAR_CELLS = sorted(h3.grid_disk(TARGET, 2))
# Nearby ZIPs, one across the state and one across the country (where h3 distances fail).
ZIPS = ["90033", "90063", "90255", "90012", "90022", "92101", "10001", "00000"]


def scan(incident, n, exclude, at):  # type: ignore[no-untyped-def]
    """Today's ranking, the slow way: every eligible membership, each distance in Python."""
    today = at.astimezone(incident.committee.tz).date()
    memberships = (
        Membership.objects.filter(
            committee_id=incident.committee_id, status=MemberStatus.FULL, user__is_active=True
        )
        .filter(
            Q(user__skills__kind=SkillKind.VERIFIER),
            Q(user__skills__expires_on__isnull=True) | Q(user__skills__expires_on__gte=today),
        )
        .select_related("user", "committee")
        .prefetch_related("shifts")
        .distinct()
    )
    target = incident_cell(incident)
    languages = matching.report_languages(incident)
    found = [
        matching.Candidate(
            m.user,
            matching.rings_between(matching.home_cell(m.user), target),
            m.user.language in languages,
        )
        for m in memberships
        if (m.user.on_duty or m.is_on_shift(at)) and m.user.pk not in exclude
    ]
    found.sort(key=lambda cand: cand.rank)
    return found[:n]


person = st.fixed_dictionaries(
    {
        "area": st.one_of(
            st.tuples(st.just("cell"), st.sampled_from(NEAR_CELLS)),
            st.tuples(st.just("cell"), st.sampled_from(NEAR_CELLS)),
            st.tuples(st.just("zip"), st.sampled_from(ZIPS)),
            st.tuples(st.just("none"), st.just("")),
            st.tuples(st.just("bad"), st.sampled_from(["zzz", h3.cell_to_parent(TARGET, 5)])),
        ),
        "language": st.sampled_from([Language.EN, Language.ES]),
        "on_duty": st.sampled_from([True, True, True, False]),
        "active": st.integers(0, 9).map(lambda i: i > 0),
        # Mostly eligible, so that rankings among many candidates are compared.
        "status": st.sampled_from(["full"] * 6 + ["probation", "elsewhere", "none"]),
        "skill": st.sampled_from(["current", "forever"] * 3 + ["lapsed", "driver", "none"]),
        "shift": st.sampled_from([None, "now", "later", "overnight"]),
        "bulk": st.booleans(),
    }
)


def _build(net, index, spec, now):  # type: ignore[no-untyped-def]
    kind, value = spec["area"]
    fields = {
        "email": f"p{index}@example.org",
        "display_name": f"P{index}",
        "password": "!",
        "language": spec["language"],
        "on_duty": spec["on_duty"],
        "is_active": spec["active"],
        "home_cell": value if kind in ("cell", "bad") else "",
        "home_zip": value if kind == "zip" else "",
    }
    if kind == "bad" and spec["bulk"]:
        fields["home_zip"] = "90255"  # an unusable cell falls back to the ZIP
    if spec["bulk"]:
        [user] = User.objects.bulk_create([User(**fields)])  # pre_save fills area_cell too
        user = User.objects.get(email=fields["email"])
    else:
        user = User.objects.create(**fields)
    committee = {"elsewhere": net.east}.get(spec["status"], net.boyle)
    membership = None
    if spec["status"] != "none":
        membership = Membership.objects.create(
            user=user,
            committee=committee,
            status=MemberStatus.PROBATION if spec["status"] == "probation" else MemberStatus.FULL,
        )
    today = now.date()
    skill = spec["skill"]
    if skill != "none":
        Skill.objects.create(
            user=user,
            kind=SkillKind.DRIVER if skill == "driver" else SkillKind.VERIFIER,
            expires_on={
                "current": today + dt.timedelta(days=30),
                "lapsed": today - dt.timedelta(days=30),
            }.get(skill),
        )
    if membership is not None and spec["shift"]:
        local = now.astimezone(net.boyle.tz)
        if spec["shift"] == "now":
            Shift.objects.create(
                membership=membership,
                weekday=local.weekday(),
                start=dt.time(0),
                end=dt.time(23, 59),
            )
        elif spec["shift"] == "later":
            Shift.objects.create(
                membership=membership,
                weekday=(local.weekday() + 3) % 7,
                start=dt.time(9),
                end=dt.time(17),
            )
        else:  # from yesterday evening into today
            Shift.objects.create(
                membership=membership,
                weekday=(local.weekday() - 1) % 7,
                start=dt.time(23, 59),
                end=dt.time(23, 58),
            )
    return user


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(person, min_size=8, max_size=40),
    n=st.sampled_from([1, 1, 2, 3, 5, 0, 12]),
    language=st.sampled_from(["en", "es", None]),
    offset=st.tuples(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01)),
    excluded=st.sets(st.integers(0, 29), max_size=5),
)
def test_the_fast_path_chooses_as_a_full_scan_does(net, people, n, language, offset, excluded):  # type: ignore[no-untyped-def]
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=net.vero.pk).update(on_duty=False)  # only the generated people
        built = [_build(net, i, spec, now) for i, spec in enumerate(people)]
        if language is None:  # an incident without reports: no language bonus
            incident = report_incident(lat=BOYLE[0] + offset[0], lon=BOYLE[1] + offset[1])
            incident.reports.all().delete()
        else:
            incident = report_incident(
                lat=BOYLE[0] + offset[0], lon=BOYLE[1] + offset[1], language=language
            )
        exclude = {built[i].pk for i in excluded if i < len(built)}

        fast = matching.nearest_responders(incident, n, exclude=exclude, at=now)
        slow = scan(incident, n, exclude, now)

        assert [(c.user.pk, c.rings, c.shares_language) for c in fast] == [
            (c.user.pk, c.rings, c.shares_language) for c in slow
        ]
        transaction.set_rollback(True)


def test_the_area_cell_follows_the_home(net):
    mo = User.objects.get(pk=net.mo.pk)
    mo.home_zip, mo.home_cell = "90033", ""
    mo.save(update_fields=["home_zip", "home_cell"])
    mo.refresh_from_db()
    assert mo.area_cell == geo.cell_for(*geo.zip_centroid("90033"))  # type: ignore[misc]
    mo.home_zip, mo.home_cell = "", NEAR_CELLS[3]
    mo.save(update_fields=["home_zip", "home_cell"])
    mo.refresh_from_db()
    assert mo.area_cell == NEAR_CELLS[3]
    mo.home_cell = ""
    mo.save()
    mo.refresh_from_db()
    assert mo.area_cell == ""


def test_a_wide_search_stays_within_a_few_queries(net, django_assert_max_num_queries):
    from defensa.dispatch.tests.helpers import verifier

    for i, zip_code in enumerate(["90033", "90063", "90255", "90012"]):
        verifier(f"v{i}", net.boyle, home_zip=zip_code)
    incident = report_incident()
    with django_assert_max_num_queries(12):
        chosen = matching.nearest_responders(incident, 2)
    assert len(chosen) == 2


def test_a_search_out_to_forty_km_asks_each_wide_step_in_one_select(net):
    """Asked cell by cell, the steps out to rings 10 and 16 were statements of 270 and 486
    UNION ALL arms, which PostgreSQL took seconds to plan (a small committee with fewer
    verifiers than asked for); unlimited, a step is one SELECT over all its cells."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from defensa.dispatch.tests.helpers import verifier

    verifier("far", net.boyle, home_zip="90255")
    incident = report_incident()
    with CaptureQueriesContext(connection) as queries:
        chosen = matching.nearest_responders(incident, 5)
    assert 1 <= len(chosen) < 5  # fewer than asked: every step out was taken
    searches = [q["sql"] for q in queries.captured_queries if "area_cell" in q["sql"]]
    wide = [sql for sql in searches if "LIMIT" not in sql]
    assert len(wide) >= 2
    assert all(sql.count("UNION ALL") == 0 for sql in wide)


def test_a_generated_population_gets_the_same_choice_as_a_full_scan(net):
    import random

    rng = random.Random(7)
    now = timezone.now()
    User.objects.filter(pk=net.vero.pk).update(on_duty=False)
    cells = sorted(h3.grid_disk(TARGET, 4))
    # A crowd first (lowest ids) in the incident's cells, most of them off duty with a shift
    # at another time: a cell's first few by id are often not on duty at all.
    specs = [
        {
            "area": ("cell", rng.choice(cells[:7] if i % 2 else [TARGET])),
            "language": rng.choice([Language.EN, Language.ES]),
            "on_duty": rng.random() < 0.15,
            "active": True,
            "status": "full",
            "skill": "current",
            "shift": "later",
            "bulk": True,
        }
        for i in range(80)
    ]
    for _ in range(300):
        where = rng.random()
        area = (
            ("cell", rng.choice(cells))
            if where < 0.8
            else ("zip", rng.choice(ZIPS))
            if where < 0.95
            else ("none", "")
        )
        specs.append(
            {
                "area": area,
                "language": rng.choice([Language.EN, Language.ES]),
                "on_duty": rng.random() < 0.6,
                "active": rng.random() < 0.95,
                "status": rng.choice(["full"] * 8 + ["probation", "elsewhere"]),
                "skill": rng.choice(["current", "forever"] * 4 + ["lapsed", "driver"]),
                "shift": rng.choice([None, None, None, "now", "later", "overnight"]),
                "bulk": rng.random() < 0.5,
            }
        )
    people = [_build(net, i, spec, now) for i, spec in enumerate(specs)]
    compared = 0
    for language in ("es", "en", None):
        for _ in range(3):
            lat, lon = BOYLE[0] + rng.uniform(-0.02, 0.02), BOYLE[1] + rng.uniform(-0.02, 0.02)
            incident = report_incident(lat=lat, lon=lon, language=language or "en")
            if language is None:
                incident.reports.all().delete()
            exclude = {p.pk for p in rng.sample(people, 10)}
            for n in (1, 3, 20, 400):
                fast = matching.nearest_responders(incident, n, exclude=exclude, at=now)
                slow = scan(incident, n, exclude, now)
                assert [(c.user.pk, c.rings, c.shares_language) for c in fast] == [
                    (c.user.pk, c.rings, c.shares_language) for c in slow
                ]
                compared += len(slow)
    assert compared > 500


def test_the_consoles_nearest_names_are_the_full_lists_first_five(net):
    """`nearest_on_duty_names` (the console's "On duty nearby") names the same five as
    sorting every on-duty verifier by (rings, name) did, for incidents here and there."""
    import random

    from defensa.dispatch.tests.helpers import verifier

    rng = random.Random(18)
    now = timezone.now()
    cells = sorted(h3.grid_disk(TARGET, 5))
    for i in range(60):
        # Shared names across cells: the tie inside a ring goes by name, as before.
        user = verifier(f"n{i}", net.boyle, on_duty=rng.random() < 0.7)
        User.objects.filter(pk=user.pk).update(display_name=f"Name {rng.randrange(20):02d}")
        user.refresh_from_db()
        user.home_cell, user.home_zip = rng.choice(cells), ""
        user.save()
    incidents = [
        report_incident(
            lat=BOYLE[0] + rng.uniform(-0.03, 0.03), lon=BOYLE[1] + rng.uniform(-0.03, 0.03)
        )
        for _ in range(6)
    ]
    found = matching.nearest_on_duty_names(incidents, now)
    for incident in incidents:
        target = incident_cell(incident)
        full = sorted(
            (matching.rings_between(matching.home_cell(u), target), u.display_name)
            for u in matching.on_duty_verifiers(incident, now)
        )
        assert found[incident.pk] == [name for _rings, name in full[:5]]
        assert len(found[incident.pk]) == 5


def test_the_shift_check_in_sql_is_shift_covers(net):
    """Whether a shift covers the moment is asked in the search's SQL: it answers as
    `committees.models.shift_covers` does, day shifts, overnight ones and the edges."""
    from defensa.committees.models import shift_covers
    from defensa.dispatch.tests.helpers import verifier

    person = verifier("shifty", net.boyle, on_duty=False)
    membership = Membership.objects.get(user=person, committee=net.boyle)
    incident = report_incident()
    monday = dt.datetime(2026, 11, 30, tzinfo=net.boyle.tz)  # a Monday, local midnight
    moments = [
        monday + dt.timedelta(days=day, hours=hour, minutes=minute)
        for day in (0, 1, 6)
        for hour, minute in ((0, 0), (0, 30), (5, 59), (6, 0), (9, 0), (16, 59), (17, 0), (23, 59))
    ]
    shifts = [
        (0, dt.time(9), dt.time(17)),  # Monday by day
        (0, dt.time(22), dt.time(6)),  # Monday night into Tuesday
        (6, dt.time(22), dt.time(6)),  # Sunday night into Monday
        (1, dt.time(0), dt.time(0)),  # all Tuesday (start == end counts as overnight)
        (0, dt.time(0), dt.time(6)),
        (6, dt.time(17), dt.time(23, 59)),
    ]
    answers = []
    for weekday, start, end in shifts:
        Shift.objects.filter(membership=membership).delete()
        Shift.objects.create(membership=membership, weekday=weekday, start=start, end=end)
        for local in moments:
            at = local.astimezone(dt.UTC)
            found = {u.pk for u in matching.on_duty_verifiers(incident, at)}
            expected = shift_covers(weekday, start, end, local)
            assert (person.pk in found) == expected, (weekday, start, end, local)
            answers.append(expected)
    assert True in answers and False in answers


@pytest.mark.parametrize("dense", [1, 200])
def test_the_consoles_names_widen_as_far_as_the_full_list_reaches(net, monkeypatch, dense):
    """Few on duty near some incidents and many far off (tens of km, across the country, no
    home area at all), incidents in two committees, one far from everyone and one with no
    place: every incident's first n names, for n = 1, 5 and 12, are still the full list's.
    On PostgreSQL, with every cell read in name order (dense 1) and by its memberships."""
    import random

    monkeypatch.setattr(matching, "_DENSE_CELL", dense)

    from defensa.dispatch.tests.helpers import verifier
    from defensa.incidents.models import Incident

    rng = random.Random(3)
    now = timezone.now()
    homes = [  # a few crowded cells: more people a cell than n, in names' and ids' orders
        *[TARGET] * 4,
        *[sorted(h3.grid_ring(TARGET, 1))[0]] * 3,
        *[sorted(h3.grid_ring(TARGET, 2))[0]] * 2,
        *(geo.cell_for(BOYLE[0] + d, BOYLE[1] - d / 2) for d in (0.05, 0.12, 0.3, 0.45)),
    ]
    for i, committee in enumerate([net.boyle] * 36 + [net.east] * 30):
        user = verifier(f"w{i}", committee, on_duty=rng.random() < 0.7)
        where = rng.random()
        cell, zip_code = (
            (rng.choice(homes), "")
            if where < 0.7
            else ("", rng.choice(["90033", "92101", "10001"]))
            if where < 0.9
            else ("", "")
        )
        User.objects.filter(pk=user.pk).update(display_name=f"Name {rng.randrange(12):02d}")
        user.refresh_from_db()
        user.home_cell, user.home_zip = cell, zip_code
        user.save()

    def incident(committee, lat, lon, ref):  # type: ignore[no-untyped-def]
        placed = lat is not None
        return Incident.objects.create(
            reference=ref, category="workplace_raid", lat=lat, lon=lon, radius_m=50,
            weight=1 / 2500, cell=geo.cell_for(lat, lon) if placed else "",
            first_observed_at=now, last_observed_at=now, report_count=0, committee=committee,
        )  # fmt: skip

    incidents = [
        *(
            incident(net.boyle, BOYLE[0] + rng.uniform(-0.02, 0.02), BOYLE[1], f"W{i}")
            for i in range(4)
        ),
        incident(net.boyle, 34.5, -118.9, "FAR"),  # ~80 km off: past every ring step
        incident(net.east, BOYLE[0] + 0.01, BOYLE[1] + 0.01, "EAST"),
        incident(net.east, None, None, "NOWHERE"),  # no place: everyone at the same distance
    ]
    assert incident_cell(incidents[-1]) == ""
    for n in (1, 5, 12):
        found = matching.nearest_on_duty_names(incidents, now, n)
        for one in incidents:
            target = incident_cell(one)
            full = sorted(
                (matching.rings_between(matching.home_cell(u), target), u.display_name)
                for u in matching.on_duty_verifiers(one, now)
            )
            assert len(full) > n
            assert found[one.pk] == [name for _rings, name in full[:n]]
