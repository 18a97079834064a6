"""Security property 3: closed by default.

Every URL pattern is requested (GET, and POST with empty data) by an anonymous visitor and by
the lowest role there is: pat, a member on probation. Only views declared `@public` (and, for
pat, `@signed_in`) may answer anything but a refusal. Other views check a role themselves and
must refuse both.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from defensa.accounts.models import User
from defensa.core import testing
from defensa.core.access import access_of
from defensa.core.tests.urlwalk import (
    SAMPLE_TOKEN,
    Endpoint,
    Samples,
    endpoints,
    resolves_to,
    sample_paths,
)

# Every view anyone may open without an account. A new public view must be added here on
# purpose, after asking whether strangers really need it.
PUBLIC_URL_NAMES = {
    "pages:home",
    "pages:report",
    "pages:rights",
    "pages:rights_topic",
    "pages:robots",
    "pages:favicon",
    "accounts:login",
    "accounts:logout",
    # The second sign-in step and its passkey ceremony: the person is not signed in yet.
    "accounts:second_factor",
    "accounts:passkey_login_options",
    "accounts:passkey_login_verify",
    # Invitation links: the invitee has no account yet; the token is the credential.
    "join:start",
    "join:code",
    # Account recovery: the person lost their password or second factor, so cannot sign in.
    # The request form answers alike for every address; the reset link is single-use and
    # expiring, made only after two approvers (docs/accounts.md).
    "recover:ask",
    "recover:link",
    # The public report form: anyone reports, no account (issue 3).
    "reports:new",
    # SMS provider webhooks: no account, authenticated by the provider's signature (property 20).
    "notify:twilio_inbound",
    "notify:twilio_status",
    "notify:gateway_webhook",
    # A verifier's one-tap link from an alert: no sign-in on a phone; the token is the
    # credential (signed, expiring, single-use; only its hash is stored).
    "dispatch:respond",
    # Verified incidents only, coarse place and approximate time (issue 3, off by default).
    "record:verified",
    # Voice hotline webhooks: no account, authenticated by the provider's signature.
    "voice:incoming",
    "voice:language",
    "voice:dialed",
    "voice:screen",
    "voice:screened",
    "voice:recorded",
    "voice:recording",
    # A recorded prompt, for the provider playing it: only at a signed link that expires.
    "voice:prompt_audio",
    # The service worker and web app manifest: browsers fetch them without cookies.
    "webpush:service_worker",
    "webpush:manifest",
    # An accompanier's check-in link (the token is the credential, derived and hashed like
    # dispatch's) and their private calendar feed (a random token, only its hash stored).
    "accompaniment:checkin",
    "accompaniment:feed",
    # A pledge campaign's public page: anyone in scope pledges with a phone number, no
    # account; it shows counts only, never who pledged (docs/pledges.md).
    "pledges:public",
    # A public event's page: its coarse area and time, and RSVP with a phone number; the
    # exact place is never on it (docs/events.md). Members-only events answer 404.
    "events:public",
    # A worker's own link to say they took part in a structure test: no account; the signed
    # token is the credential, and the page shows the action's title only (docs/organising.md).
    "organising:take_part",
    # A phone tree's one-tap confirmation link: the person may have no account or no session
    # on that phone; the token is the credential (derived and hashed like dispatch's) and the
    # page shows the cascade's message only (docs/phone-trees.md).
    "trees:confirm",
    # Alert sign-up without an account: phone, ZIP code and language, confirmed by a code
    # texted to the phone; flood-gated per source like the report form (docs/subscribers.md).
    "subscribers:subscribe",
    "subscribers:confirm",
    # A vote's page: the question and the roll's size; a ballot needs the voter's one-time
    # code, a receipt check the receipt; the result only after the close (docs/votes.md).
    "votes:ballot",
    # The health check for load balancers: yes or no per check, nothing else (docs/operations.md).
    "ops:healthz",
}

# Views a member on probation may open inside their own committee (slug "boyle-heights").
# For any other committee the same views must refuse: that is the compartment wall.
PROBATION_MEMBER_PAGES: set[str] = {
    # The committee's own page: announcements newer than the member's joining, own vouches.
    "committees:detail",
}

REFUSALS = {302, 403, 404, 405, 410}
OWN_COMMITTEE = "boyle-heights"


@dataclass(frozen=True)
class Visitor:
    label: str
    user: User | None


class _Clients:
    """One client per visitor, kept in the state the walk promises for every request.

    Building a client (and its middleware chain) or signing in for each request would make
    the walk several times slower; instead the anonymous client forgets its cookies, and
    pat is signed in again only after a request ended the session (an empty POST to "sign
    out", or a page that signs people out).
    """

    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}

    def ready(self, visitor: Visitor) -> Client:
        client = self._clients.get(visitor.label)
        if client is None:
            client = self._clients[visitor.label] = Client()
        if visitor.user is None:
            client.cookies.clear()
        elif client.session.get(SESSION_KEY) != str(visitor.user.pk):
            client.cookies.clear()
            testing.sign_in(client, visitor.user, factor="totp")
        return client


def violations(
    endpoint_list: list[Endpoint],
    visitors: list[Visitor],
    samples: Samples,
    *,
    member_pages: Collection[str] = (),
) -> list[str]:
    """Every (visitor, method, path) that got through although it should have been refused."""
    found: list[str] = []
    clients = _Clients()
    for endpoint in endpoint_list:
        access = access_of(endpoint.callback)
        paths = sample_paths(endpoint, samples)
        if not paths:
            found.append(f"{endpoint.name}: no sample value fits {endpoint.route!r}")
            continue
        for path in paths:
            if not resolves_to(path, endpoint):
                found.append(f"{endpoint.name}: sample {path} resolves to another view")
                continue
            for visitor in visitors:
                if access == "public" or (access == "signed_in" and visitor.user is not None):
                    continue
                own_page = endpoint.name in member_pages and f"/{OWN_COMMITTEE}/" in path
                if visitor.user is not None and own_page:
                    continue
                for method in ("get", "post"):
                    client = clients.ready(visitor)
                    try:
                        response = getattr(client, method)(path, {})
                    except Exception as exc:  # noqa: BLE001 - a crash is a finding, not a stop
                        found.append(f"{visitor.label} {method.upper()} {path}: raised {exc!r}")
                        continue
                    if response.status_code not in REFUSALS:
                        found.append(
                            f"{visitor.label} {method.upper()} {path} ({endpoint.name}, "
                            f"access={access}): {response.status_code}"
                        )
    return found


def _network_samples(net: testing.Network) -> Samples:
    # Existing ids of several kinds (someone else's account, committees, a membership) and one
    # that exists nowhere; the own committee and a foreign one.
    ids = {
        net.ana.pk,
        net.boyle.pk,
        net.east.pk,
        net.ana.memberships.get().pk,  # type: ignore[attr-defined]
        999999,
    }
    return Samples(ints=tuple(sorted(ids)), slugs=(OWN_COMMITTEE, net.east.slug))


def test_public_views_are_exactly_the_allowlist() -> None:
    public = {e.name for e in endpoints() if access_of(e.callback) == "public"}
    assert public == PUBLIC_URL_NAMES, (
        f"newly public: {sorted(public - PUBLIC_URL_NAMES)}; "
        f"no longer public: {sorted(PUBLIC_URL_NAMES - public)}"
    )


def test_member_page_allowlist_names_real_role_checked_views() -> None:
    by_name = {e.name: e for e in endpoints()}
    stale = sorted(n for n in PROBATION_MEMBER_PAGES if n not in by_name)
    assert stale == []
    assert all(access_of(by_name[n].callback) == "role" for n in PROBATION_MEMBER_PAGES)


def test_every_url_refuses_anonymous_and_probation_member(net: testing.Network) -> None:
    endpoint_list = endpoints()
    # The walk must actually see the project's URLs, not an empty or partial tree.
    assert {"pages:home", "accounts:login", "accounts:home"} <= {e.name for e in endpoint_list}
    found = violations(
        endpoint_list,
        [Visitor("anonymous", None), Visitor("pat (probation)", net.pat)],
        _network_samples(net),
        member_pages=PROBATION_MEMBER_PAGES,
    )
    assert found == [], "\n".join(found)


@pytest.mark.urls("defensa.core.tests.urls_walk_sample")
def test_the_walk_catches_a_view_that_forgot_its_access_check(
    net: testing.Network, settings: SettingsWrapper
) -> None:
    settings.LOGIN_URL = "/login/"  # the sample URLconf has no accounts:login to reverse
    endpoint_list = endpoints()
    assert {e.name for e in endpoint_list} == {
        "open",
        "mine",
        "inner:leak",
        "inner:link",
        "inner:old",
        "inner:guarded",
    }
    samples = Samples(ints=(7,), slugs=(OWN_COMMITTEE,))
    found = violations(
        endpoint_list, [Visitor("anonymous", None), Visitor("pat", net.pat)], samples
    )
    leaky = [e for e in endpoint_list if e.name in {"inner:leak", "inner:link"}]
    leaky_paths = [p for e in leaky for p in sample_paths(e, samples)]
    assert "/deep/leak/7/" in leaky_paths
    assert f"/deep/link/{SAMPLE_TOKEN}/" in leaky_paths
    # Exactly the two views that check nothing, reached through a namespaced include, an int
    # and a project converter; nothing from the public, signed-in or role-checking views.
    assert sorted(line.split(" (")[0] for line in found) == sorted(
        f"{who} {method} {path}"
        for who in ("anonymous", "pat")
        for method in ("GET", "POST")
        for path in leaky_paths
    )
    # And the regex pattern was sampled and reached (it answered 404, a refusal).
    assert sample_paths(next(e for e in endpoint_list if e.name == "inner:old"), Samples()) == [
        "/deep/old/2026/"
    ]


# The intake role (a hotline operator without alert power) opens the operator's form and
# the list of its own calls' incidents, and nothing else that needs a role: no console, no
# verification, no verdicts, no archive, no reporter contact (docs/rapid-response.md).
INTAKE_PAGES = {"reports:operator", "reports:operator_incidents"}


def test_intake_opens_only_its_own_pages(net: testing.Network) -> None:
    ines = testing.make_user("ines")
    testing.join(ines, net.boyle, is_intake=True)
    by_name = {e.name for e in endpoints()}
    assert by_name >= INTAKE_PAGES
    found = violations(
        [e for e in endpoints() if e.name not in INTAKE_PAGES],
        [Visitor("ines (intake)", ines)],
        _network_samples(net),
        member_pages=PROBATION_MEMBER_PAGES,
    )
    assert found == [], "\n".join(found)
