"""Demo committees (called by defensa/demo): the Los Angeles tree, memberships and roles,
shifts, vouches, announcements and pending invitations.

The places and ZIP codes are real, so areas, cells and distances behave as they would for a
real network; the people and what they wrote are fictional.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from defensa.accounts.models import User
from defensa.committees.models import (
    Announcement,
    Committee,
    Invitation,
    Kind,
    Membership,
    MemberStatus,
    PlaceName,
    Shift,
    Vouch,
)
from defensa.core import geo
from defensa.core.tokens import hash_token

LOCALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Boyle Heights", "boyle-heights", ("90033",)),
    ("East Los Angeles", "east-la", ("90022", "90063")),
    ("Pico-Union y Westlake", "pico-union-westlake", ("90006", "90057")),
    ("South Los Angeles", "south-la", ("90011", "90003")),
    ("Huntington Park", "huntington-park", ("90255",)),
)

# The names people in these ZIP codes use for where they live (fiction keeps real places).
PLACE_NAMES: dict[str, str] = {
    "90033": "Boyle Heights",
    "90022": "East LA",
    "90063": "City Terrace",
    "90006": "Pico-Union",
    "90057": "Westlake",
    "90011": "South Central",
    "90003": "Vermont Square",
    "90255": "Huntington Park",
}

# Roles in each local committee, among generated full members: two coordinators, three
# dispatchers, a legal contact.
LOCAL_ROLES = (
    "is_coordinator", "is_coordinator", "is_dispatcher", "is_dispatcher", "is_dispatcher",
    "is_legal",
)  # fmt: skip

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


@dataclass
class Joining:
    """How one demo person belongs to their committee (one per user, in the same order)."""

    committee: str  # slug
    full: bool
    persona: bool
    shifts: bool
    roles: dict[str, bool] = field(default_factory=dict)
    joined_days: int = 60


def home_area(rng: random.Random, zip_codes: Sequence[str]) -> tuple[str, str]:
    """A coarse home area: one of the committee's ZIPs and a neighbourhood cell near it."""
    zip_code = rng.choice(zip_codes)
    cells = geo.area_cells_near([zip_code], rings=1)
    return zip_code, (rng.choice(cells) if cells else "")


def create_committees(
    rng: random.Random, now: dt.datetime, *, network_slug: str, time_zone: str
) -> tuple[Committee, Committee, dict[str, Committee]]:
    """The network, its one city, and the local committees (by slug) with their areas, and
    the names of the neighbourhoods of their ZIP codes."""
    network = Committee.objects.create(
        name="Red de Defensa de Los Ángeles", slug=network_slug, kind=Kind.NETWORK,
        time_zone=time_zone, created_at=now - dt.timedelta(days=200),
    )  # fmt: skip
    city = Committee.objects.create(
        name="Los Angeles", slug="los-angeles", kind=Kind.CITY, parent=network,
        time_zone=time_zone, created_at=now - dt.timedelta(days=200),
    )  # fmt: skip
    PlaceName.objects.bulk_create(
        [PlaceName(zip_code=z, name=n) for z, n in PLACE_NAMES.items()], ignore_conflicts=True
    )
    locals_by_slug: dict[str, Committee] = {}
    for name, slug, zips in LOCALS:
        locals_by_slug[slug] = Committee.objects.create(
            name=name,
            slug=slug,
            kind=Kind.LOCAL,
            parent=city,
            time_zone=time_zone,
            zip_codes=list(zips),
            h3_cells=geo.area_cells_near(list(zips), rings=1),
            vouches_required=2,
            created_at=now - dt.timedelta(days=rng.randint(90, 180)),
        )
    return network, city, locals_by_slug


def choose_roles(rng: random.Random, joinings: list[Joining], *, persona_led: str) -> None:
    """Give each local committee's generated full members its LOCAL_ROLES. In `persona_led`
    the coordinator persona coordinates, so one generated co-coordinator is enough."""
    by_committee: dict[str, list[int]] = {}
    for index, joining in enumerate(joinings):
        if not joining.persona and joining.full:
            by_committee.setdefault(joining.committee, []).append(index)
    for slug, indexes in by_committee.items():
        chosen = rng.sample(indexes, len(LOCAL_ROLES))
        for index, role in zip(chosen, LOCAL_ROLES, strict=True):
            joinings[index].roles = {role: True}
        if slug == persona_led:
            joinings[chosen[1]].roles = {}


def add_memberships(
    rng: random.Random,
    now: dt.datetime,
    users: list[User],
    joinings: list[Joining],
    committees: dict[str, Committee],
) -> list[Membership]:
    """Full members joined weeks or months ago; those on probation in the last twelve days."""
    memberships: list[Membership] = []
    for user, joining in zip(users, joinings, strict=True):
        joined = now - dt.timedelta(days=joining.joined_days)
        if not joining.full:
            joined = now - dt.timedelta(days=rng.randint(1, 12))
        full_since = joined + dt.timedelta(days=rng.randint(3, 20)) if joining.full else None
        memberships.append(
            Membership(
                user=user, committee=committees[joining.committee],
                status=MemberStatus.FULL if joining.full else MemberStatus.PROBATION,
                joined_at=joined, full_since=full_since, **joining.roles,
            )
        )  # fmt: skip
    return Membership.objects.bulk_create(memberships)


def add_shifts(rng: random.Random, memberships: list[Membership], joinings: list[Joining]) -> int:
    """One or two of SHIFT_PATTERNS for full members who give shifts."""
    shifts: list[Shift] = []
    for membership, joining in zip(memberships, joinings, strict=True):
        if not joining.shifts or not joining.full:
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
    return len(shifts)


def add_vouches(
    rng: random.Random,
    now: dt.datetime,
    users: list[User],
    memberships: list[Membership],
    joinings: list[Joining],
) -> int:
    """Everyone on probation has 0 or 1 of the 2 vouches they need; a persona exactly 1."""
    full_in: dict[int, list[User]] = {}
    for user, membership, joining in zip(users, memberships, joinings, strict=True):
        if joining.full:
            full_in.setdefault(membership.committee_id, []).append(user)
    vouches: list[Vouch] = []
    for membership, joining in zip(memberships, joinings, strict=True):
        if joining.full:
            continue
        wanted = 1 if joining.persona else rng.randint(0, 1)
        for voucher in rng.sample(full_in[membership.committee_id], wanted):
            vouches.append(Vouch(membership=membership, voucher=voucher, created_at=now))
    Vouch.objects.bulk_create(vouches)
    return len(vouches)


def add_announcements(
    rng: random.Random,
    now: dt.datetime,
    locals_by_slug: dict[str, Committee],
    users: list[User],
    memberships: list[Membership],
) -> int:
    """ANNOUNCEMENTS, each by its committee's first coordinator, a few days apart."""
    coordinators: dict[int, User] = {}
    for user, membership in zip(users, memberships, strict=True):
        if membership.is_coordinator:
            coordinators.setdefault(membership.committee_id, user)
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
    return len(announcements)


def add_pending_invitations(committee: Committee, created_by: User, now: dt.datetime) -> int:
    """Invitations for the coordinator's list. The tokens are thrown away (only their hash is
    stored, as always), so these links cannot be used."""
    invitations = Invitation.objects.bulk_create(
        Invitation(
            committee=committee, token_hash=hash_token(secrets.token_urlsafe(32)), note=note,
            created_by=created_by, created_at=now - dt.timedelta(days=d),
            expires_at=now + dt.timedelta(days=settings.INVITATION_DAYS - d),
        )
        for d, note in enumerate(PENDING_INVITATION_NOTES, start=1)
    )  # fmt: skip
    return len(invitations)
