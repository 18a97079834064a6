"""The demo network that `make run` seeds: complete, repeatable, and never outside demo mode."""

from __future__ import annotations

import io
import random
from collections import Counter
from pathlib import Path

import h3
import pyotp
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from defensa.accounts.models import Skill, SkillKind, TOTPDevice, User
from defensa.committees.models import (
    Announcement,
    Committee,
    Kind,
    Membership,
    MemberStatus,
    Shift,
    Vouch,
)
from defensa.demo.network import (
    DEMO_PASSWORD,
    NETWORK_SLUG,
    PERSONAS,
    build,
)
from defensa.incidents.models import Incident

EXPECTED_LOCALS = {
    "Boyle Heights": ["90033"],
    "East Los Angeles": ["90022", "90063"],
    "Pico-Union y Westlake": ["90006", "90057"],
    "South Los Angeles": ["90011", "90003"],
    "Huntington Park": ["90255"],
}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_refuses_outside_demo_mode(db: None, settings: Settings) -> None:
    settings.DEMO = False
    before = row_counts()
    with pytest.raises(CommandError, match="DEFENSA_DEMO=1"):
        seed()
    assert row_counts() == before


def test_builds_the_los_angeles_network(
    db: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEMO = True
    monkeypatch.setenv("PORT", "8123")
    # Bulk inserts keep it to seconds: a few hundred queries for 200 people and their skills,
    # shifts and memberships (about 200 today), not one or more per row (over 1,000).
    with CaptureQueriesContext(connection) as queries:
        output = seed()
    # The demo cases and plans (defensa/cases/demo.py) go through the real actions, so their
    # timelines and audit chain are real: about 300 queries more, a fixed number. The response
    # rules (dispatch/demo.py) and the public pages add a few per committee and incident, and
    # the demo events (a picket with shifts, a training: through events' real actions) about
    # 100: about 840 on PostgreSQL in all, still a fixed number however many people (one
    # query or more per person would add over 600).
    assert len(queries) < 950, f"{len(queries)} queries: rows are created one by one"

    network = Committee.objects.get(slug=NETWORK_SLUG, kind=Kind.NETWORK)
    city = Committee.objects.get(parent=network, kind=Kind.CITY, name="Los Angeles")
    local = {c.name: c for c in Committee.objects.filter(parent=city, kind=Kind.LOCAL)}
    assert {name: c.zip_codes for name, c in local.items()} == EXPECTED_LOCALS
    for committee in local.values():
        assert committee.time_zone == "America/Los_Angeles"
        assert committee.h3_cells and all(h3.get_resolution(c) == 7 for c in committee.h3_cells)

    members = User.objects.all()
    assert 190 <= members.count() <= 210
    languages = Counter(members.values_list("language", flat=True))
    assert set(languages) == {"en", "es"} and languages["es"] > languages["en"]
    assert all(u.home_zip in local[m].zip_codes for u, m in _homes())
    assert members.exclude(home_cell="").count() > 100
    assert 10 <= members.filter(on_duty=True).count() <= 60
    assert all(
        p.startswith("+1") and "5550" in p
        for p in members.exclude(phone="").values_list("phone", flat=True)
    )
    assert all(e.endswith("@demo.defensa.invalid") for e in members.values_list("email", flat=True))

    skills = Skill.objects.all()
    assert {s.kind for s in skills} == set(SkillKind.values)
    today = timezone.localdate()
    expired = [s for s in skills if not s.is_current(today)]
    assert 0 < len(expired) < len(skills) / 2

    assert Shift.objects.count() > 100
    assert {s.weekday for s in Shift.objects.all()} == set(range(7))
    probation = Membership.objects.filter(status=MemberStatus.PROBATION)
    assert 3 <= probation.count() <= 30
    assert Vouch.objects.filter(membership__in=probation).exists()
    for membership in probation:
        assert membership.vouches.count() < membership.committee.vouches_required
    for committee in local.values():
        roles = Membership.objects.filter(committee=committee, status=MemberStatus.FULL)
        assert roles.filter(is_coordinator=True).exists()
        assert roles.filter(is_dispatcher=True).exists()
        assert Announcement.objects.filter(committee=committee).exists()

    # A few incidents in every state, fed through the real intake and grouped: the raid's
    # three reports (web, SMS, operator) are one incident.
    incidents = Incident.objects.all()
    assert sorted(i.state for i in incidents) == sorted(
        ["new", "verifying", "confirmed", "false_alarm", "closed"]
    )
    assert max(i.reports.count() for i in incidents) == 3  # type: ignore[attr-defined]
    assert {i.committee.name for i in incidents} == set(EXPECTED_LOCALS)  # type: ignore[union-attr]

    # The printed table: every persona, its fixed secret, the password and the port.
    assert "http://127.0.0.1:8123/accounts/login/" in output
    assert DEMO_PASSWORD in output
    for persona in PERSONAS:
        assert persona.email in output and persona.totp_secret in output
        assert TOTPDevice.objects.get(user__email=persona.email).secret == persona.totp_secret
    assert "passkey" in output


def _homes() -> list[tuple[User, str]]:
    return [
        (m.user, m.committee.name)
        for m in Membership.objects.select_related("user", "committee").filter(
            committee__kind=Kind.LOCAL
        )
    ]


def test_every_persona_signs_in_with_the_printed_password_and_code(
    db: None, settings: Settings
) -> None:
    settings.DEMO = True
    seed()
    for persona in PERSONAS:
        client = Client()
        step1 = client.post("/accounts/login/", {"email": persona.email, "password": DEMO_PASSWORD})
        assert step1.status_code == 302, persona.key
        code = pyotp.TOTP(persona.totp_secret).now()
        step2 = client.post(step1["Location"], {"code": code})
        assert step2.status_code == 302, persona.key
        assert client.get("/accounts/").status_code == 200, persona.key
    roles = {p.key: p for p in PERSONAS}
    coordinator = User.objects.get(email=roles["coordinator"].email)
    assert coordinator.requires_passkey  # the output's passkey note is about this
    newcomer = Membership.objects.get(user__email=roles["newcomer"].email)
    assert newcomer.status == MemberStatus.PROBATION and newcomer.vouches.count() == 1


def test_second_run_adds_nothing(db: None, settings: Settings) -> None:
    settings.DEMO = True
    seed()
    before = row_counts()
    output = seed()
    assert row_counts() == before
    assert "already there" in output
    assert PERSONAS[0].totp_secret in output  # still prints how to sign in


def test_the_same_seed_builds_the_same_people(db: None, settings: Settings) -> None:
    def people() -> list[tuple[str, str, str, int]]:
        with transaction.atomic():
            build(random.Random(7))
            found = [
                (u.email, u.language, u.home_zip, u.skills.count())  # type: ignore[attr-defined]
                for u in User.objects.order_by("email")
            ]
            transaction.set_rollback(True)
        return found

    first = people()
    assert first and first == people()


def test_the_guide_matches_the_command() -> None:
    # docs/demo.md repeats the sign-in table for people reading it before running anything.
    guide = (Path(settings.BASE_DIR) / "docs" / "demo.md").read_text()
    assert DEMO_PASSWORD in guide
    for persona in PERSONAS:
        assert persona.email in guide and persona.totp_secret in guide, persona.key
    for name, zips in EXPECTED_LOCALS.items():
        assert f"| {name} | {', '.join(zips)} |" in guide


def test_a_demo_call_to_the_hotline_rings_someone_in_boyle_heights(
    db: None, settings: Settings, voice_peer, tmp_path: Path
) -> None:
    from defensa.voice.models import Hotline

    settings.DEMO = True
    settings.MEDIA_ROOT = tmp_path
    settings.VOICE_FALLBACK_NUMBERS = []
    settings.HOTLINE_NUMBER = "+1-213-555-0100"  # the Makefile's DEMO_HOTLINE
    assert "Hotline +12135550100 rings Boyle Heights" in seed()
    hotline = Hotline.objects.get()
    assert hotline.number == "+12135550100" and hotline.committee.slug == "boyle-heights"
    rosa = User.objects.get(email=PERSONAS[0].email)
    assert list(hotline.fallback_members.all()) == [rosa]

    call = voice_peer.call("+13235550199", "+12135550100", presses=["2"], answerers={})
    assert call.dials, "a demo call rang nobody"
    assert all(d.numbers for d in call.dials)


def test_the_hotline_is_added_to_a_network_seeded_before_it(db: None, settings: Settings) -> None:
    from defensa.voice.models import Hotline

    settings.DEMO = True
    settings.HOTLINE_NUMBER = ""  # falls back to the Makefile's demo number
    seed()
    Hotline.objects.all().delete()  # as a demo database from before the hotline
    before = row_counts()
    seed()
    assert Hotline.objects.get().number == "+12135550100"
    after = row_counts()
    changed = {label for label in after if after[label] != before[label]}
    assert changed <= {"voice.Hotline", "voice.Hotline_fallback_members", "audit.AuditEntry"}
    # Already mapped: a third run changes nothing.
    seed()
    assert row_counts() == after
