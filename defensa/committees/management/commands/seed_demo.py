"""Build the Los Angeles demo network (`make run` calls this), then print how to sign in.

Everything here is fictional: names, e-mail addresses (under the reserved .invalid domain),
phone numbers (the 555-01xx range set aside for fiction). The places and ZIP codes are real,
so the areas, cells and distances behave as they would for a real network. See docs/demo.md.

It refuses to run unless DEFENSA_DEMO is on, so a production database never gets accounts
with a published password. A second run finds the network and only prints the table.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from defensa.accounts.models import Language, Skill, SkillKind, TOTPDevice, User
from defensa.committees.models import (
    Announcement,
    Committee,
    Invitation,
    Kind,
    Membership,
    MemberStatus,
    Shift,
    Vouch,
)
from defensa.core import geo

SEED = 20250610  # the date of the statement this project answers; any fixed number would do
NETWORK_SLUG = "red-la-demo"
EMAIL_DOMAIN = "demo.defensa.invalid"
# Published in docs/demo.md and printed on every run: it protects nothing, by design.
DEMO_PASSWORD = "defensa-demo-2026"  # noqa: S105
TIME_ZONE = "America/Los_Angeles"
TOTAL_MEMBERS = 200  # personas included

LOCALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Boyle Heights", "boyle-heights", ("90033",)),
    ("East Los Angeles", "east-la", ("90022", "90063")),
    ("Pico-Union y Westlake", "pico-union-westlake", ("90006", "90057")),
    ("South Los Angeles", "south-la", ("90011", "90003")),
    ("Huntington Park", "huntington-park", ("90255",)),
)


@dataclass(frozen=True)
class Persona:
    key: str
    display_name: str
    language: str
    # A fixed base32 TOTP secret, so the printed code works on every machine.
    totp_secret: str
    can: str
    committee: str = "boyle-heights"
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
        "Full member: own profile, skills, shifts, on-duty switch, announcements",
        skills=(SkillKind.ACCOMPANIER,),
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

FIRST_ES = (
    "María", "José", "Guadalupe", "Juan", "Carmen", "Luis", "Rosa", "Miguel", "Ana", "Jorge",
    "Verónica", "Alejandro", "Yesenia", "Ricardo", "Leticia", "Francisco", "Araceli", "Héctor",
    "Maribel", "Jesús", "Claudia", "Fernando", "Norma", "Raúl", "Elena", "Óscar", "Patricia",
    "Arturo", "Silvia", "Eduardo", "Lupe", "Mario", "Gabriela", "Sergio", "Brenda", "Armando",
    "Karina", "Javier", "Adriana", "Víctor", "Esperanza", "Rigoberto", "Marisol", "Ernesto",
)  # fmt: skip
FIRST_EN = (
    "Jasmine", "Marcus", "Emily", "David", "Keisha", "Kevin", "Grace", "Daniel", "Aisha",
    "Tyler", "Sarah", "Andre", "Michelle", "Brian", "Tiffany", "Jamal", "Linh", "Joon", "Priya",
    "Noah", "Crystal", "Anthony", "Vanessa", "Eric", "Destiny", "Christopher",
)  # fmt: skip
LAST = (
    "García", "Hernández", "López", "Martínez", "Rodríguez", "González", "Pérez", "Sánchez",
    "Ramírez", "Flores", "Torres", "Rivera", "Gómez", "Díaz", "Cruz", "Morales", "Reyes",
    "Gutiérrez", "Ortiz", "Castillo", "Jiménez", "Vásquez", "Chávez", "Romero", "Mendoza",
    "Nguyen", "Kim", "Johnson", "Williams", "Brown", "Lee", "Davis", "Santos", "Aguilar",
)  # fmt: skip

# Skills a member may have, with how often (per member) they are drawn.
SKILL_WEIGHTS = {
    SkillKind.VERIFIER: 0.30,
    SkillKind.LEGAL_OBSERVER: 0.18,
    SkillKind.ACCOMPANIER: 0.25,
    SkillKind.INTERPRETER: 0.15,
    SkillKind.DRIVER: 0.18,
    SkillKind.ATTORNEY: 0.03,
    SkillKind.HOTLINE: 0.08,
}
# Weekly windows people actually give: raids start before dawn, court is in the morning,
# volunteers are free evenings and Saturdays. (weekdays, start, end; 0 is Monday)
SHIFT_PATTERNS: tuple[tuple[tuple[int, ...], str, str], ...] = (
    ((0, 1, 2, 3, 4), "05:00", "09:00"),
    ((0, 2, 4), "18:00", "22:00"),
    ((1, 3), "18:00", "22:00"),
    ((5,), "08:00", "14:00"),
    ((6,), "09:00", "13:00"),
    ((4,), "22:00", "02:00"),  # Friday night into Saturday
    ((0, 1, 2, 3, 4), "12:00", "14:00"),
)

ANNOUNCEMENTS: dict[str, tuple[str, ...]] = {
    "boyle-heights": (
        "Capacitación para verificadores este sábado a las 10 am en el salón de la parroquia. "
        "Traigan su teléfono cargado. / Verifier training this Saturday, 10 am, parish hall.",
        "Recordatorio: nunca publiquen fotos de vecinos detenidos sin permiso de la familia. "
        "Primero verificamos, luego avisamos.",
        "Need two drivers for court accompaniment on Tuesday morning downtown. "
        "Sign up by replying to the coordinator.",
    ),
    "east-la": (
        "Esta semana hubo muchos reportes falsos en Whittier Blvd. Antes de compartir algo "
        "en los grupos, esperen la confirmación del equipo de verificación.",
        "Reunión del comité el jueves a las 7 pm. Habrá traducción al inglés.",
    ),
    "pico-union-westlake": (
        "Taller de 'Conozca sus derechos' para trabajadores de la costura, domingo 2 pm. "
        "Know-your-rights workshop for garment workers, Sunday 2 pm.",
        "Buscamos intérpretes de K'iche' y Q'anjob'al para acompañamientos en la corte.",
    ),
    "south-la": (
        "New legal observers: please renew your training before it expires; next session "
        "is on the 15th.",
        "Turnos de madrugada (5-9 am) necesitan más voluntarios de lunes a viernes.",
    ),
    "huntington-park": (
        "Gracias a todos los que respondieron el martes en Pacific Blvd. Tres verificadores "
        "llegaron en menos de 15 minutos.",
        "Reminder: the hotline number is on the back of your rights card. Share the card, "
        "not screenshots of the group chat.",
    ),
}
PENDING_INVITATION_NOTES = ("Para la vecina de la calle 1ª", "Carlos from the carwash")

# A few incidents in different states, each fed through the real intake (reports grouped into
# incidents) and moved through legal transitions, so the timeline and audit chain are real.
# (minutes ago, channel, category, lat, lon, place, language, description)
Sighting = tuple[int, str, str, float, float, str, str, str]
INCIDENTS: tuple[tuple[tuple[Sighting, ...], tuple[tuple[str, str, str], ...]], ...] = (
    (  # Boyle Heights: a car wash raid, three reports by three channels, confirmed.
        (
            (38, "web", "workplace_raid", 34.0441, -118.2113, "E Cesar E Chavez Ave y Soto",
             "es", "Camionetas sin placas frente al car wash, agentes con chalecos."),
            (33, "sms", "workplace_raid", 34.0444, -118.2109, "Chavez & Soto car wash",
             "en", "ICE at the car wash on Chavez, at least 6 agents"),
            (30, "operator", "workplace_raid", 34.0439, -118.2116, "Car wash, Cesar Chavez",
             "es", "Llamada: están sacando a los trabajadores por la parte de atrás."),
        ),
        (
            ("verifying", "dispatcher", "Dos verificadores en camino."),
            ("confirmed", "verifier", "Confirmado: 4 vehículos, agentes de ICE, 3 detenidos."),
        ),
    ),
    (  # East LA: a checkpoint, two reports, being verified now.
        (
            (14, "sms", "checkpoint", 34.0239, -118.1543, "Whittier Blvd & Atlantic",
             "es", "Retén en Whittier y Atlantic, están pidiendo papeles."),
            (9, "web", "checkpoint", 34.0242, -118.1547, "Whittier y Atlantic",
             "es", "Patrullas y una camioneta blanca bloqueando un carril."),
        ),
        (("verifying", "dispatcher", "Oferta enviada a los verificadores de turno."),),
    ),
    (  # Huntington Park: a single sighting, nobody has looked yet.
        (
            (4, "web", "sighting", 33.9820, -118.2253, "Pacific Blvd near Gage",
             "en", "Two unmarked SUVs parked outside the swap meet."),
        ),
        (),
    ),
    (  # Pico-Union: a vehicle stop that turned out to be a tow truck: false alarm.
        (
            (95, "voice", "vehicle_stop", 34.0575, -118.2777, "MacArthur Park, Alvarado",
             "es", "Dicen que paran carros en Alvarado."),
        ),
        (
            ("verifying", "dispatcher", ""),
            ("false_alarm", "verifier", "Era una grúa municipal, no había agentes."),
        ),
    ),
    (  # South LA: yesterday's arrest at a home, confirmed and since closed.
        (
            (1500, "operator", "home_arrest", 34.0082, -118.2562, "Central Ave & 41st St",
             "es", "Se llevaron a un vecino al salir de su casa a las 6 am."),
        ),
        (
            ("confirmed", "dispatcher", "La familia confirmó. Caso abierto con el equipo legal."),
            ("closed", "legal", "Familia en contacto con el abogado; seguimiento en el caso."),
        ),
    ),
)  # fmt: skip


class Command(BaseCommand):
    help = "Build the fictional Los Angeles demo network (DEFENSA_DEMO=1 only) and print logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError(
                "seed_demo only runs with DEFENSA_DEMO=1: it creates accounts whose password "
                "is published. It never belongs in a real network's database."
            )
        if Committee.objects.filter(slug=NETWORK_SLUG).exists():
            self.stdout.write("The demo network is already there; nothing added.")
        else:
            started = timezone.now()
            with transaction.atomic():
                counts = build(random.Random(SEED))  # noqa: S311 - repeatable fiction, not secrets
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(
                f"Built the demo network in {seconds:.1f} s: "
                + ", ".join(f"{n} {what}" for what, n in counts.items())
            )
        mapped = demo_hotline()
        if mapped:
            self.stdout.write(f"Hotline {mapped} rings Boyle Heights' operators on duty.")
        self.stdout.write(login_table())


# -- building ------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _phones(rng: random.Random) -> Iterable[str]:
    # 555-0100..0199 is reserved for fiction in every North American area code.
    numbers = [
        f"+1{area}5550{n:03d}" for area in ("213", "323", "626", "562") for n in range(100, 200)
    ]
    rng.shuffle(numbers)
    return iter(numbers)


def _area(rng: random.Random, zip_codes: tuple[str, ...]) -> tuple[str, str]:
    """A coarse home area: one of the committee's ZIPs and a neighbourhood cell near it."""
    zip_code = rng.choice(zip_codes)
    cells = geo.area_cells_near([zip_code], rings=1)
    return zip_code, (rng.choice(cells) if cells else "")


def build(rng: random.Random) -> dict[str, int]:
    now = timezone.now()
    today = timezone.localdate()
    # One Argon2 hash for every account: hashing 200 times would take most of a minute.
    # Reusing a hash (and its salt) only reveals that the passwords are equal, which is
    # published anyway. Demo only: real accounts always get their own hash.
    password_hash = make_password(DEMO_PASSWORD)
    phones = _phones(rng)

    network = Committee.objects.create(
        name="Red de Defensa de Los Ángeles", slug=NETWORK_SLUG, kind=Kind.NETWORK,
        time_zone=TIME_ZONE, created_at=now - dt.timedelta(days=200),
    )  # fmt: skip
    city = Committee.objects.create(
        name="Los Angeles", slug="los-angeles", kind=Kind.CITY, parent=network,
        time_zone=TIME_ZONE, created_at=now - dt.timedelta(days=200),
    )  # fmt: skip
    locals_by_slug: dict[str, Committee] = {}
    for name, slug, zips in LOCALS:
        locals_by_slug[slug] = Committee.objects.create(
            name=name,
            slug=slug,
            kind=Kind.LOCAL,
            parent=city,
            time_zone=TIME_ZONE,
            zip_codes=list(zips),
            h3_cells=geo.area_cells_near(list(zips), rings=1),
            vouches_required=2,
            created_at=now - dt.timedelta(days=rng.randint(90, 180)),
        )
    committees = {NETWORK_SLUG: network, **locals_by_slug}

    # People: personas first, then generated members spread over the local committees.
    users: list[User] = []
    homes: dict[int, str] = {}  # index in users -> committee slug
    plan: list[dict[str, Any]] = []  # per user: roles, skills, full member?, shifts?
    for persona in PERSONAS:
        home = committees[persona.committee]
        zip_code, cell = _area(rng, tuple(home.zip_codes)) if home.zip_codes else ("", "")
        users.append(
            User(
                email=persona.email, display_name=persona.display_name,
                language=persona.language, phone=next(phones), password=password_hash,
                home_zip=zip_code, home_cell=cell, is_network_admin=persona.network_admin,
                on_duty=persona.on_duty, on_duty_since=now if persona.on_duty else None,
                notify_sms=True, created_at=now - dt.timedelta(days=60),
            )
        )  # fmt: skip
        homes[len(users) - 1] = persona.committee
        plan.append(
            {
                "roles": persona.roles,
                "skills": [(k, False) for k in persona.skills],
                "full": persona.full,
                "persona": True,
                "shifts": persona.key in ("verifier", "dispatcher", "member"),
            }
        )

    slugs = list(locals_by_slug)
    used_emails = {u.email for u in users}
    for i in range(TOTAL_MEMBERS - len(PERSONAS)):
        slug = slugs[i % len(slugs)]
        spanish = rng.random() < 0.72
        first = rng.choice(FIRST_ES if spanish else FIRST_EN)
        last = rng.choice(LAST)
        # Many English-preferring members are bilingual children of Spanish speakers.
        language = Language.ES if spanish and rng.random() < 0.88 else Language.EN
        base = f"{_ascii(first)}.{_ascii(last)}"
        email = f"{base}@{EMAIL_DOMAIN}"
        n = 2
        while email in used_emails:
            email, n = f"{base}{n}@{EMAIL_DOMAIN}", n + 1
        used_emails.add(email)
        zip_code, cell = _area(rng, tuple(locals_by_slug[slug].zip_codes))
        full = rng.random() > 0.06
        on_duty = full and rng.random() < 0.15
        joined_days = rng.randint(1, 170)
        users.append(
            User(
                email=email, display_name=f"{first} {last[0]}.", language=language,
                phone=next(phones) if rng.random() < 0.9 else "", password=password_hash,
                home_zip=zip_code, home_cell=cell if rng.random() < 0.7 else "",
                on_duty=on_duty,
                on_duty_since=now - dt.timedelta(minutes=rng.randint(5, 600)) if on_duty else None,
                notify_email=rng.random() < 0.6, notify_sms=rng.random() < 0.8,
                created_at=now - dt.timedelta(days=joined_days),
            )
        )  # fmt: skip
        homes[len(users) - 1] = slug
        kinds = [k for k, w in SKILL_WEIGHTS.items() if rng.random() < w]
        if SkillKind.INTERPRETER in kinds and not spanish:
            kinds.remove(SkillKind.INTERPRETER)
        plan.append(
            {
                "roles": {},
                "skills": [(k, True) for k in kinds],
                "full": full,
                "persona": False,
                "shifts": rng.random() < 0.6,
                "joined_days": joined_days,
            }
        )
    users = User.objects.bulk_create(users)

    # Roles in each local committee, among generated full members: two coordinators, three
    # dispatchers, a legal contact. Boyle Heights has its personas on top.
    by_committee: dict[str, list[int]] = {}
    for index, slug in homes.items():
        if not plan[index]["persona"] and plan[index]["full"]:
            by_committee.setdefault(slug, []).append(index)
    for slug, indexes in by_committee.items():
        chosen = rng.sample(indexes, 6)
        for index, role in zip(
            chosen,
            ("is_coordinator", "is_coordinator", "is_dispatcher", "is_dispatcher",
             "is_dispatcher", "is_legal"),
            strict=True,
        ):  # fmt: skip
            plan[index]["roles"] = {role: True}
        if slug == "boyle-heights":
            # Rosa (the persona) coordinates Boyle Heights; one generated co-coordinator.
            plan[chosen[1]]["roles"] = {}

    memberships: list[Membership] = []
    for index, user in enumerate(users):
        info = plan[index]
        joined = now - dt.timedelta(days=info.get("joined_days", 60))
        if not info["full"]:
            joined = now - dt.timedelta(days=rng.randint(1, 12))
        memberships.append(
            Membership(
                user=user, committee=committees[homes[index]],
                status=MemberStatus.FULL if info["full"] else MemberStatus.PROBATION,
                joined_at=joined,
                full_since=joined + dt.timedelta(days=rng.randint(3, 20)) if info["full"] else None,
                **info["roles"],
            )
        )  # fmt: skip
    memberships = Membership.objects.bulk_create(memberships)

    skills: list[Skill] = []
    for index, user in enumerate(users):
        for kind, varied in plan[index]["skills"]:
            if kind == SkillKind.ATTORNEY:
                trained, expires = today - dt.timedelta(days=rng.randint(400, 4000)), None
            elif varied:
                # Trainings last a year; about one in five has lapsed and needs renewing.
                trained = today - dt.timedelta(days=rng.randint(10, 450))
                expires = trained + dt.timedelta(days=365)
            else:
                trained = today - dt.timedelta(days=rng.randint(30, 200))
                expires = trained + dt.timedelta(days=365)
            skills.append(Skill(user=user, kind=kind, trained_on=trained, expires_on=expires))
    Skill.objects.bulk_create(skills)

    shifts: list[Shift] = []
    for index, membership in enumerate(memberships):
        if not plan[index]["shifts"] or not plan[index]["full"]:
            continue
        for days, start, end in rng.sample(SHIFT_PATTERNS, rng.randint(1, 2)):
            picked = days if len(days) <= 2 else rng.sample(days, rng.randint(1, len(days)))
            for weekday in sorted(picked):
                shifts.append(
                    Shift(
                        membership=membership, weekday=weekday,
                        start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end),
                    )
                )  # fmt: skip
    Shift.objects.bulk_create(shifts)

    # Vouches: everyone on probation has 0 or 1 of the 2 they need; the newcomer persona 1.
    vouches: list[Vouch] = []
    full_in: dict[int, list[User]] = {}
    for index, membership in enumerate(memberships):
        if plan[index]["full"]:
            full_in.setdefault(membership.committee_id, []).append(users[index])
    for index, membership in enumerate(memberships):
        if plan[index]["full"]:
            continue
        wanted = 1 if plan[index]["persona"] else rng.randint(0, 1)
        for voucher in rng.sample(full_in[membership.committee_id], wanted):
            vouches.append(Vouch(membership=membership, voucher=voucher, created_at=now))
    Vouch.objects.bulk_create(vouches)

    TOTPDevice.objects.bulk_create(
        TOTPDevice(user=users[i], secret=p.totp_secret, confirmed_at=now)
        for i, p in enumerate(PERSONAS)
    )

    coordinators: dict[int, User] = {}
    for index, membership in enumerate(memberships):
        if membership.is_coordinator:
            coordinators.setdefault(membership.committee_id, users[index])
    announcements = [
        Announcement(
            committee=locals_by_slug[slug],
            author=coordinators.get(locals_by_slug[slug].pk),
            body=body,
            created_at=now
            - dt.timedelta(days=age * 4 + rng.randint(0, 3), hours=rng.randint(1, 9)),
        )
        for slug, bodies in ANNOUNCEMENTS.items()
        for age, body in enumerate(bodies)
    ]
    Announcement.objects.bulk_create(announcements)

    # Two pending invitations for the coordinator's list. The tokens are thrown away (only
    # their hash is stored, as always), so these links cannot be used.
    boyle = locals_by_slug["boyle-heights"]
    Invitation.objects.bulk_create(
        Invitation(
            committee=boyle, token_hash=_hash(secrets.token_urlsafe(32)), note=note,
            created_by=users[0], created_at=now - dt.timedelta(days=d),
            expires_at=now + dt.timedelta(days=settings.INVITATION_DAYS - d),
        )
        for d, note in enumerate(PENDING_INVITATION_NOTES, start=1)
    )  # fmt: skip

    incidents = _incidents(now, {p.key: users[i] for i, p in enumerate(PERSONAS)})
    # Cases and emergency plans for the legal persona (defensa/cases/demo.py).
    from defensa.cases import demo as cases_demo

    cases = cases_demo.seed({p.key: users[i] for i, p in enumerate(PERSONAS)}, committees)
    # Upcoming court and ICE check-in accompaniments (defensa/accompaniment/demo.py).
    from defensa.accompaniment import demo as accompaniment_demo

    accompaniments = accompaniment_demo.seed(
        {p.key: users[i] for i, p in enumerate(PERSONAS)}, committees
    )

    return {
        "committees": len(committees) + 1,
        "members": len(users),
        "skills": len(skills),
        "shifts": len(shifts),
        "vouches": len(vouches),
        "announcements": len(announcements),
        "incidents": incidents,
        **cases,
        **accompaniments,
    }


def _incidents(now: dt.datetime, personas: dict[str, User]) -> int:
    # Imported here: these apps sit above core, and only the demo needs them.
    from defensa.incidents.actions import change_state
    from defensa.reports.actions import receive_report

    incidents = set()
    for n, (sightings, steps) in enumerate(INCIDENTS):
        report = None
        for k, (ago, channel, category, lat, lon, place, language, text) in enumerate(sightings):
            data = {
                "category": category, "lat": lat, "lon": lon, "location_text": place,
                "location_kind": "gps" if channel == "web" else "cross_streets",
                "observed_at": now - dt.timedelta(minutes=ago), "language": language,
                "description": text,
            }  # fmt: skip
            actor = personas["dispatcher"] if channel in ("operator", "voice") else None
            report = receive_report(
                data, channel=channel, actor=actor, idempotency_key=f"demo-seed-{n}-{k}"
            ).report
        if report is None:
            raise CommandError(f"demo incident {n} has no sightings")
        incident = report.incident
        for state, who, note in steps:
            change_state(incident, state, actor=personas[who], note=note)
        incidents.add(incident.pk)
    return len(incidents)


# The Makefile's DEMO_HOTLINE; used when DEFENSA_HOTLINE_NUMBER is not set.
DEMO_HOTLINE = "+1-213-555-0100"


def demo_hotline() -> str:
    """Map the demo hotline number to Boyle Heights, so a demo call rings someone: its
    operators on duty, else the coordinator persona (the fallback group). Additive and
    idempotent: a network seeded before the hotline existed gets it on the next run; a
    number already mapped (to Boyle Heights or by an operator elsewhere) is left alone.
    Returns the number when it maps it now."""
    from defensa.voice.actions import set_hotline
    from defensa.voice.models import Hotline
    from defensa.voice.routing import e164

    number = e164(settings.HOTLINE_NUMBER or DEMO_HOTLINE)
    boyle = Committee.objects.filter(
        slug="boyle-heights", parent__parent__slug=NETWORK_SLUG
    ).first()
    if not number or boyle is None or Hotline.objects.filter(number=number).exists():
        return ""
    rosa = User.objects.filter(email=PERSONAS[0].email).first()
    set_hotline(boyle, number, fallback_members=[rosa] if rosa else [])
    return number


def _hash(token: str) -> str:
    # The same hash the invitation code uses; imported lazily to keep core below committees.
    from defensa.committees.actions import hash_token

    return hash_token(token)


# -- printing ------------------------------------------------------------------------------


def login_table() -> str:
    port = os.environ.get("PORT", "8000")
    secret = PERSONAS[0].totp_secret
    url = f"http://127.0.0.1:{port}/accounts/login/"
    rows = [("Persona", "Email", "Password", "TOTP secret", "What they can do")]
    rows += [(p.key, p.email, DEMO_PASSWORD, p.totp_secret, p.can) for p in PERSONAS]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "",
        "Demo network: Red de Defensa de Los Ángeles (everyone in it is fictional)",
        f"Sign in at {url}",
        f"Every persona's password is {DEMO_PASSWORD}",
        "",
    ]
    for i, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True))
            + "  "
            + row[4]
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(row[4]))
    lines += [
        "",
        "The second step asks for a 6-digit code. Add a secret above to an authenticator app,",
        "or print the current code for one persona:",
        f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\"",
        "",
        "Coordinators and administrators sign in with a code only because this is a demo;",
        "outside demo mode their role requires a passkey. See docs/demo.md.",
        f"To try a passkey, open http://localhost:{port}/ instead: browsers refuse passkeys",
        "on a bare IP address.",
    ]
    return "\n".join(lines)
