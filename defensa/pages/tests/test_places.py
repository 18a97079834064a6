"""Every page a persona may see is reached from their My page by following links only.

A small breadth-first crawler with Django's test client: it starts at My page, follows the
same-site `<a href>` of every HTML page it gets (GET only, never a form), and stops after a
bounded number of pages. For each persona of `build_network` the test names, by URL name, the
pages that persona may see, and asserts the crawl reached each of them. It also asserts that
no link a persona is shown leads to a page that refuses them.
"""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from defensa.core import testing
from defensa.pages.places import places_for

MAX_PAGES = 400
START = "/accounts/"
# Links that are files or feeds rather than pages (still fetched: they must not 404).
NOT_PAGES = ("/static/", "/accompaniment/cal/")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _same_site(href: str, current: str) -> str | None:
    href, _frag = urldefrag(href)
    if not href:
        return None
    parts = urlsplit(href)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
        return None
    if not parts.path.startswith("/"):
        return None  # every link in the project is absolute; a relative one would be a bug
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client: Client, start: str = START) -> tuple[set[str], list[tuple[str, str, int]]]:
    """Paths reached from `start` by links, and (from, to, status) of links that refused."""
    seen = {start}
    queue = deque([(start, start)])
    reached: set[str] = set()
    broken: list[tuple[str, str, int]] = []
    while queue and len(reached) < MAX_PAGES:
        source, path = queue.popleft()
        response = client.get(path)
        if response.status_code >= 400:
            broken.append((source, path, response.status_code))
            continue
        if response.status_code >= 300:
            continue  # a link that redirects is not the page it names
        reached.add(urlsplit(path).path)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        if path.startswith(NOT_PAGES):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.hrefs:
            target = _same_site(href, path)
            if target and target not in seen:
                seen.add(target)
                queue.append((path, target))
    return reached, broken


def _everyone() -> set[str]:
    return {
        reverse("accounts:home"),
        reverse("accounts:security"),
        reverse("me:index"),
        reverse("me:profile"),
        reverse("me:skills"),
        reverse("me:area"),
        reverse("me:availability"),
        reverse("dispatch:alerts"),
        reverse("accompaniment:my_calendar"),
        reverse("pages:home"),
    }


def _member(slug: str) -> set[str]:
    return {
        reverse("committees:detail", args=[slug]),
        reverse("committees:list"),
        reverse("plans:mine"),
    }


def _coordinator(slug: str) -> set[str]:
    return {
        reverse("committees:members", args=[slug]),
        reverse("committees:invitations", args=[slug]),
        reverse("committees:role_requests", args=[slug]),
        reverse("committees:switched_off", args=[slug]),
        reverse("broadcasts:index", args=[slug]),
        reverse("broadcasts:new", args=[slug]),
        reverse("record:public_page", args=[slug]),
        reverse("record:archive", args=[slug]),
        reverse("notify:deliveries"),
        reverse("network:index"),
        reverse("network:committee", args=[slug]),
        reverse("network:area", args=[slug]),
        reverse("dispatch:policy", args=[slug]),
    }


def _admin(net: testing.Network) -> set[str]:
    every = [net.network, net.city, net.boyle, net.east]
    return {
        reverse("notify:deliveries"),
        reverse("record:audit_log"),
        reverse("network:index"),
        *(reverse("network:committee", args=[c.slug]) for c in every),
        *(reverse("network:area", args=[c.slug]) for c in every),
        *(reverse("dispatch:policy", args=[c.slug]) for c in every),
    }


def _dispatcher(slug: str) -> set[str]:
    return {
        reverse("dispatch:console", args=[slug]),
        reverse("reports:operator"),
        reverse("reports:operator_incidents"),
        reverse("record:archive", args=[slug]),
        reverse("plans:search", args=[slug]),
    }


def _legal(slug: str) -> set[str]:
    return {
        reverse("cases:list"),
        reverse("cases:new"),
        reverse("accompaniment:index"),
        reverse("accompaniment:calendar", args=[slug]),
        reverse("accompaniment:new", args=[slug]),
        reverse("record:archive", args=[slug]),
    }


def expected_pages(net: testing.Network) -> dict[str, set[str]]:
    boyle, east = net.boyle.slug, net.east.slug
    mo_membership = net.mo.memberships.get()  # type: ignore[attr-defined]
    return {
        "ana": _everyone()
        | _member(boyle)
        | _coordinator(boyle)
        | {reverse("committees:member", args=[boyle, mo_membership.pk])},
        "dani": _everyone() | _member(boyle) | _dispatcher(boyle),
        "vero": _everyone() | _member(boyle),
        "lucia": _everyone() | _member(boyle) | _legal(boyle),
        "mo": _everyone() | _member(boyle),
        "pat": _everyone() | _member(boyle),
        "omar": _everyone() | _member(east) | _coordinator(east),
        "admin": _everyone() | _admin(net),
    }


PERSONAS = ["ana", "dani", "vero", "lucia", "mo", "pat", "omar", "admin"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", PERSONAS)
def test_every_page_of_a_persona_is_reached_from_my_page_by_links(who: str) -> None:
    net = testing.build_network()
    client = testing.sign_in(Client(), getattr(net, who))
    reached, broken = crawl(client)
    missing = sorted(expected_pages(net)[who] - reached)
    assert not missing, f"{who} cannot reach by links from My page: {missing}"
    assert not broken, f"{who} is shown links that refuse them: {broken}"


@pytest.mark.django_db
@pytest.mark.parametrize("who", PERSONAS)
def test_my_page_links_each_place_of_the_persona_once_tap_away(who: str) -> None:
    """One tap: every place places_for() names is a link on My page itself, and opens."""
    net = testing.build_network()
    user = getattr(net, who)
    client = testing.sign_in(Client(), user)
    page = client.get(START)
    parser = _Links()
    parser.feed(page.content.decode())
    urls = [p.url for s in places_for(user) for p in s.places]
    assert urls
    for url in urls:
        assert url in parser.hrefs, f"{who}: {url} is not on My page"
        assert client.get(url).status_code == 200, f"{who}: {url} refuses them"


@pytest.mark.django_db
def test_roles_bring_their_places_and_nothing_else() -> None:
    net = testing.build_network()
    console = reverse("dispatch:console", args=[net.boyle.slug])
    members = reverse("committees:members", args=[net.boyle.slug])
    cases = reverse("cases:list")

    def urls(user):  # type: ignore[no-untyped-def]
        return {p.url for s in places_for(user) for p in s.places}

    assert console in urls(net.dani) and console not in urls(net.mo)
    assert members in urls(net.ana) and members not in urls(net.omar)
    assert cases in urls(net.lucia) and cases not in urls(net.dani)
    # Roles count only for full members: a coordinator on probation gets no coordinator places.
    net.pat.memberships.update(is_coordinator=True)  # type: ignore[attr-defined]
    assert reverse("committees:members", args=[net.boyle.slug]) not in urls(net.pat)
    assert reverse("dispatch:alerts") in urls(net.pat)
