"""Named personas for tests, built with the ORM (no factory library needed).

The network: Los Angeles (network) -> LA City -> Boyle Heights and East LA (locals).

| persona | who |
| ana     | coordinator of Boyle Heights (full member) |
| dani    | dispatcher in Boyle Heights |
| vero    | verifier (skill) in Boyle Heights |
| lucia   | legal team in Boyle Heights |
| mo      | plain full member of Boyle Heights |
| pat     | new member of Boyle Heights, on probation |
| omar    | coordinator of East LA: another compartment |
| admin   | network administrator |
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
from django.test import Client
from django.utils import timezone

from defensa.accounts.middleware import SESSION_AUTH_AT, SESSION_FACTOR, SESSION_SEEN_AT
from defensa.accounts.models import Skill, SkillKind, TOTPDevice, User
from defensa.committees.models import Committee, Kind, Membership, MemberStatus

PASSWORD = "tortilla-sunrise-42"  # noqa: S105 (test persona)
CANARY_PHONE = "+12135550199"


@dataclass
class Network:
    network: Committee
    city: Committee
    boyle: Committee
    east: Committee
    ana: User
    dani: User
    vero: User
    lucia: User
    mo: User
    pat: User
    omar: User
    admin: User


def make_user(name: str, *, language: str = "en", phone: str = "", **fields) -> User:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(
        email=f"{name}@example.org",
        password=PASSWORD,
        display_name=name.capitalize(),
        language=language,
        phone=phone,
        **fields,
    )
    TOTPDevice.objects.create(user=user, secret=pyotp.random_base32(), confirmed_at=timezone.now())
    return user


def join(user: User, committee: Committee, *, full: bool = True, **roles: bool) -> Membership:
    return Membership.objects.create(
        user=user,
        committee=committee,
        status=MemberStatus.FULL if full else MemberStatus.PROBATION,
        full_since=timezone.now() if full else None,
        **roles,
    )


def build_network() -> Network:
    # A migrated install has its digest keys (made by notify's and reports' migrations); a
    # test database flushed by a transactional test has lost them.
    from defensa.core.crypto.digests import digest_key

    for name in ("notify.optout", "reports.sms_sender"):
        digest_key(name)
    network = Committee.objects.create(name="Los Angeles Network", slug="la", kind=Kind.NETWORK)
    city = Committee.objects.create(name="LA City", slug="la-city", kind=Kind.CITY, parent=network)
    boyle = Committee.objects.create(
        name="Boyle Heights", slug="boyle-heights", parent=city, zip_codes=["90033"]
    )
    east = Committee.objects.create(
        name="East LA", slug="east-la", parent=city, zip_codes=["90022", "90063"]
    )
    ana = make_user("ana", phone="+12135550101")
    dani = make_user("dani", language="es", phone="+12135550102")
    vero = make_user("vero", language="es", phone="+12135550103", home_zip="90033")
    lucia = make_user("lucia", phone="+12135550104")
    mo = make_user("mo", phone=CANARY_PHONE)
    pat = make_user("pat", language="es", phone="+12135550106")
    omar = make_user("omar", phone="+12135550107")
    admin = make_user("admin", is_network_admin=True)
    join(ana, boyle, is_coordinator=True)
    join(dani, boyle, is_dispatcher=True)
    join(vero, boyle)
    Skill.objects.create(user=vero, kind=SkillKind.VERIFIER)
    join(lucia, boyle, is_legal=True)
    join(mo, boyle)
    join(pat, boyle, full=False)
    join(omar, east, is_coordinator=True)
    return Network(network, city, boyle, east, ana, dani, vero, lucia, mo, pat, omar, admin)


def sign_in(client: Client, user: User, *, factor: str = "passkey") -> Client:
    """Log a persona in as if they had passed both factors."""
    client.force_login(user)
    session = client.session
    now = time.time()
    session[SESSION_AUTH_AT] = now
    session[SESSION_SEEN_AT] = now
    session[SESSION_FACTOR] = factor
    session.save()
    return client


def totp_now(user: User) -> str:
    return pyotp.TOTP(user.totp.secret).now()  # type: ignore[attr-defined]
