"""The fictional Los Angeles demo network, built in named steps from each app's demo.py.

Everything here is fictional: names, e-mail addresses (under the reserved .invalid domain),
phone numbers (the 555-01xx range set aside for fiction). The places and ZIP codes are real,
so the areas, cells and distances behave as they would for a real network. See docs/demo.md.

This app sits above every app it seeds, so each of them keeps its own demo data and helpers
(`defensa/<app>/demo.py`); what is here is the cast (the personas people sign in as), the
order of the steps, and the one random generator that makes every run build the same network.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils import timezone

from defensa.accompaniment import demo as accompaniment_demo
from defensa.accounts import demo as accounts_demo
from defensa.accounts.models import Language, SkillKind, User
from defensa.cases import demo as cases_demo
from defensa.committees import demo as committees_demo
from defensa.committees.demo import Joining
from defensa.committees.models import Committee
from defensa.dispatch import demo as dispatch_demo
from defensa.events import demo as events_demo
from defensa.record.actions import set_public_page
from defensa.reports import demo as reports_demo
from defensa.voice import demo as voice_demo

SEED = 20250610  # the date of the statement this project answers; any fixed number would do
NETWORK_SLUG = "red-la-demo"
EMAIL_DOMAIN = accounts_demo.EMAIL_DOMAIN
# Published in docs/demo.md and printed on every run: it protects nothing, by design.
DEMO_PASSWORD = "defensa-demo-2026"  # noqa: S105
TIME_ZONE = "America/Los_Angeles"
TOTAL_MEMBERS = 200  # personas included
# The committee whose personas people sign in as.
PERSONA_COMMITTEE = "boyle-heights"


@dataclass(frozen=True)
class Persona:
    key: str
    display_name: str
    language: str
    # A fixed base32 TOTP secret, so the printed code works on every machine.
    totp_secret: str
    can: str
    committee: str = PERSONA_COMMITTEE
    roles: dict[str, bool] = field(default_factory=dict)
    skills: tuple[str, ...] = ()
    full: bool = True
    network_admin: bool = False
    on_duty: bool = False

    @property
    def email(self) -> str:
        return f"{self.key}@{EMAIL_DOMAIN}"


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "coordinator",
        "Rosa M.",
        Language.ES,
        "DEFENSADEMOCOORDINATORROSABOYLEH",
        "Coordinates Boyle Heights: members, roles, invitations, vouching, announcements",
        roles={"is_coordinator": True},
        skills=(SkillKind.VERIFIER, SkillKind.LEGAL_OBSERVER),
    ),
    Persona(
        "dispatcher",
        "Luis G.",
        Language.ES,
        "DEFENSADEMODISPATCHERLUISBOYLEHE",
        "Dispatcher in Boyle Heights: sees who is on duty and on shift to send verifiers",
        roles={"is_dispatcher": True},
        skills=(SkillKind.INTERPRETER, SkillKind.HOTLINE),
    ),
    Persona(
        "verifier",
        "Marisol R.",
        Language.ES,
        "DEFENSADEMOVERIFIERMARISOLBOYLEH",
        "Trained verifier, on duty now, with weekly shifts; gets verification offers",
        skills=(SkillKind.VERIFIER, SkillKind.DRIVER),
        on_duty=True,
    ),
    Persona(
        "legal",
        "Grace K.",
        Language.EN,
        "DEFENSADEMOLEGALGRACEBOYLEHEIGHT",
        "Legal team in Boyle Heights (attorney): cases of detained people",
        roles={"is_legal": True},
        skills=(SkillKind.ATTORNEY,),
    ),
    Persona(
        "member",
        "Tomás H.",
        Language.ES,
        "DEFENSADEMOMEMBERTOMASBOYLEHEIGH",
        "Full member and organiser: own profile, skills, shifts, on-duty switch, "
        "announcements, workplaces and structure tests",
        skills=(SkillKind.ACCOMPANIER, SkillKind.ORGANISER),
    ),
    Persona(
        "newcomer",
        "Jamie L.",
        Language.EN,
        "DEFENSADEMONEWCOMERJAMIEBOYLEHEI",
        "On probation (1 of 2 vouches): sees only what is new since joining",
        full=False,
    ),
    Persona(
        "admin",
        "Sam A.",
        Language.EN,
        "DEFENSADEMOADMINSAMLOSANGELESNET",
        "Network administrator for the whole Los Angeles network",
        committee=NETWORK_SLUG,
        network_admin=True,
    ),
)
# Personas who give weekly shifts.
WITH_SHIFTS = ("verifier", "dispatcher", "member")


@dataclass
class Person:
    """One member of the demo network before it is saved: the account, its trainings as
    (skill, varied dates?), and how it belongs to its committee."""

    user: User
    skills: list[tuple[str, bool]]
    joining: Joining


def is_built() -> bool:
    return Committee.objects.filter(slug=NETWORK_SLUG).exists()


def build(rng: random.Random) -> dict[str, int]:
    """Build the whole network in one go (the caller holds the transaction); return counts.

    The steps draw from `rng` in a fixed order, so the same seed builds the same network.
    """
    now = timezone.now()
    password_hash = accounts_demo.shared_password_hash(DEMO_PASSWORD)
    phones = accounts_demo.fictional_phones(rng)
    network, _city, locals_by_slug = committees_demo.create_committees(
        rng, now, network_slug=NETWORK_SLUG, time_zone=TIME_ZONE
    )
    committees = {NETWORK_SLUG: network, **locals_by_slug}

    cast = _personas(rng, now, committees, phones, password_hash)
    cast += _generated_members(rng, now, locals_by_slug, phones, password_hash)
    users = User.objects.bulk_create([person.user for person in cast])
    joinings = [person.joining for person in cast]
    personas = {p.key: users[i] for i, p in enumerate(PERSONAS)}

    committees_demo.choose_roles(rng, joinings, persona_led=PERSONA_COMMITTEE)
    memberships = committees_demo.add_memberships(rng, now, users, joinings, committees)
    counts = {
        # The city is not in `committees` (nobody is a member of it) but is one of them.
        "committees": len(committees) + 1,
        "members": len(users),
        "skills": accounts_demo.add_skills(
            rng,
            timezone.localdate(),
            ((user, person.skills) for user, person in zip(users, cast, strict=True)),
        ),
        "shifts": committees_demo.add_shifts(rng, memberships, joinings),
        "vouches": committees_demo.add_vouches(rng, now, users, memberships, joinings),
    }
    accounts_demo.add_second_factors(((personas[p.key], p.totp_secret) for p in PERSONAS), now)
    counts["announcements"] = committees_demo.add_announcements(
        rng, now, locals_by_slug, users, memberships
    )
    committees_demo.add_pending_invitations(
        locals_by_slug[PERSONA_COMMITTEE], personas["coordinator"], now
    )
    # Work for the personas to see, through each app's real actions.
    counts |= reports_demo.seed(now, personas)
    counts |= cases_demo.seed(personas, committees)
    counts |= accompaniment_demo.seed(personas, committees)
    counts |= events_demo.seed(personas, committees)
    # Confirming a raid visibly alerts people: subscribers, legal on call, public page on.
    counts |= dispatch_demo.seed(now, locals_by_slug)
    for committee in locals_by_slug.values():
        set_public_page(committee, True, actor=personas["admin"])
    return counts


def _personas(
    rng: random.Random,
    now: dt.datetime,
    committees: dict[str, Committee],
    phones: Iterator[str],
    password_hash: str,
) -> list[Person]:
    """The accounts people sign in as (docs/demo.md lists them)."""
    cast = []
    for persona in PERSONAS:
        home = committees[persona.committee]
        zip_code, cell = (
            committees_demo.home_area(rng, home.zip_codes) if home.zip_codes else ("", "")
        )
        user = User(
            email=persona.email, display_name=persona.display_name,
            language=persona.language, phone=next(phones), password=password_hash,
            home_zip=zip_code, home_cell=cell, is_network_admin=persona.network_admin,
            on_duty=persona.on_duty, on_duty_since=now if persona.on_duty else None,
            notify_sms=True, created_at=now - dt.timedelta(days=60),
        )  # fmt: skip
        joining = Joining(
            committee=persona.committee,
            full=persona.full,
            persona=True,
            shifts=persona.key in WITH_SHIFTS,
            roles=dict(persona.roles),
        )
        cast.append(Person(user, [(kind, False) for kind in persona.skills], joining))
    return cast


def _generated_members(
    rng: random.Random,
    now: dt.datetime,
    locals_by_slug: dict[str, Committee],
    phones: Iterator[str],
    password_hash: str,
) -> list[Person]:
    """Everyone else, spread evenly over the local committees: mostly Spanish speakers, a
    few on probation, some on duty now, some without a phone or a chosen home cell."""
    slugs = list(locals_by_slug)
    taken = {p.email for p in PERSONAS}
    cast = []
    for i in range(TOTAL_MEMBERS - len(PERSONAS)):
        slug = slugs[i % len(slugs)]
        first, last, spanish = accounts_demo.fictional_name(rng)
        # Many English-preferring members are bilingual children of Spanish speakers.
        language = Language.ES if spanish and rng.random() < 0.88 else Language.EN
        email = accounts_demo.unique_email(first, last, taken)
        zip_code, cell = committees_demo.home_area(rng, locals_by_slug[slug].zip_codes)
        full = rng.random() > 0.06
        on_duty = full and rng.random() < 0.15
        joined_days = rng.randint(1, 170)
        user = User(
            email=email, display_name=f"{first} {last[0]}.", language=language,
            phone=next(phones) if rng.random() < 0.9 else "", password=password_hash,
            home_zip=zip_code, home_cell=cell if rng.random() < 0.7 else "",
            on_duty=on_duty,
            on_duty_since=now - dt.timedelta(minutes=rng.randint(5, 600)) if on_duty else None,
            notify_email=rng.random() < 0.6, notify_sms=rng.random() < 0.8,
            created_at=now - dt.timedelta(days=joined_days),
        )  # fmt: skip
        skills = [(kind, True) for kind in accounts_demo.draw_skills(rng, spanish=spanish)]
        joining = Joining(
            committee=slug,
            full=full,
            persona=False,
            shifts=rng.random() < 0.6,
            joined_days=joined_days,
        )
        cast.append(Person(user, skills, joining))
    return cast


def map_hotline() -> str:
    """The demo hotline rings the persona committee's operators on duty, else the coordinator
    persona (the fallback group); runs on every seed_demo, so older demo databases get it."""
    committee = Committee.objects.filter(
        slug=PERSONA_COMMITTEE, parent__parent__slug=NETWORK_SLUG
    ).first()
    rosa = User.objects.filter(email=PERSONAS[0].email).first()
    return voice_demo.map_hotline(committee, [rosa] if rosa else [])
