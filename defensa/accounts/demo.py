"""Demo people (called by defensa/demo): fictional names, phones, skills and second factors.

Names are common Los Angeles first and last names put together at random; e-mail addresses
are under the reserved .invalid domain, phone numbers in the 555-01xx range set aside for
fiction.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Iterable, Iterator

from django.contrib.auth.hashers import make_password

from defensa.accounts.models import Skill, SkillKind, TOTPDevice, User

EMAIL_DOMAIN = "demo.defensa.invalid"

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


def shared_password_hash(password: str) -> str:
    """One Argon2 hash for every demo account: hashing 200 times would take most of a minute.

    Reusing a hash (and its salt) only reveals that the passwords are equal, which is published
    anyway. Demo only: real accounts always get their own hash.
    """
    return make_password(password)


def fictional_phones(rng: random.Random) -> Iterator[str]:
    # 555-0100..0199 is reserved for fiction in every North American area code.
    numbers = [
        f"+1{area}5550{n:03d}" for area in ("213", "323", "626", "562") for n in range(100, 200)
    ]
    rng.shuffle(numbers)
    return iter(numbers)


def fictional_name(rng: random.Random) -> tuple[str, str, bool]:
    """(first name, last name, whether the name is Spanish): about three in four are."""
    spanish = rng.random() < 0.72
    return rng.choice(FIRST_ES if spanish else FIRST_EN), rng.choice(LAST), spanish


def unique_email(first: str, last: str, taken: set[str]) -> str:
    """first.last@the demo domain, numbered when taken; added to `taken`."""
    base = f"{_ascii(first)}.{_ascii(last)}"
    email, n = f"{base}@{EMAIL_DOMAIN}", 2
    while email in taken:
        email, n = f"{base}{n}@{EMAIL_DOMAIN}", n + 1
    taken.add(email)
    return email


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def draw_skills(rng: random.Random, *, spanish: bool) -> list[str]:
    kinds = [k for k, w in SKILL_WEIGHTS.items() if rng.random() < w]
    if SkillKind.INTERPRETER in kinds and not spanish:
        kinds.remove(SkillKind.INTERPRETER)
    return kinds


def add_skills(
    rng: random.Random, today: dt.date, wanted: Iterable[tuple[User, Iterable[tuple[str, bool]]]]
) -> int:
    """Trainings for each (user, [(skill, varied)]): `varied` dates spread over 450 days, so
    about one in five has lapsed; personas' trainings are all current."""
    skills: list[Skill] = []
    for user, kinds in wanted:
        for kind, varied in kinds:
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
    return len(skills)


def add_second_factors(secrets: Iterable[tuple[User, str]], now: dt.datetime) -> int:
    """A confirmed TOTP device per (user, fixed base32 secret), so printed codes work."""
    devices = TOTPDevice.objects.bulk_create(
        TOTPDevice(user=user, secret=secret, confirmed_at=now) for user, secret in secrets
    )
    return len(devices)
