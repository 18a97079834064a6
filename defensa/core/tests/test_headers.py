"""Security properties 12 and 13: protective headers, and nothing loaded from other sites."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from defensa.core import testing
from defensa.core.tests.crawl import fetch_all, network_samples, scan_html
from defensa.core.tests.proc import production_env, settings_in

# Sources a directive may name. Anything else (a host, a scheme like https:, a wildcard,
# 'unsafe-*', blob:) is either another origin or a hole in the policy.
ALLOWED_SOURCES = {"'self'", "'none'", "data:"}
MUST_BE_NONE = ("object-src", "base-uri", "frame-ancestors")


def csp_problems(header: str | None) -> list[str]:
    if not header:
        return ["no Content-Security-Policy"]
    problems = []
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    for name in MUST_BE_NONE:
        if directives.get(name) != ["'none'"]:
            problems.append(f"{name} is {directives.get(name)!r}, not 'none'")
    if "default-src" not in directives:
        problems.append("no default-src: unlisted kinds of resource would be unrestricted")
    for name, sources in directives.items():
        for source in sources:
            if source.lower() not in ALLOWED_SOURCES:
                problems.append(f"{name} allows {source}")
        if "data:" in sources and name not in ("img-src",):
            problems.append(f"{name} allows data: (only images may)")
    return problems


def test_csp_checker_rejects_weak_policies() -> None:
    assert csp_problems(None) == ["no Content-Security-Policy"]
    weak = (
        "default-src 'self' https://cdn.example.com; script-src 'self' 'unsafe-inline' "
        "'unsafe-eval'; object-src 'none'; base-uri 'self'"
    )
    assert csp_problems(weak) == [
        "base-uri is [\"'self'\"], not 'none'",
        "frame-ancestors is None, not 'none'",
        "default-src allows https://cdn.example.com",
        "script-src allows 'unsafe-inline'",
        "script-src allows 'unsafe-eval'",
    ]


def test_every_response_has_a_strict_csp(net: testing.Network) -> None:
    users = {"anonymous": None, "pat": net.pat, "ana": net.ana}
    fetched = list(fetch_all(users, network_samples(net)))
    # Static files and an unknown path pass through other code paths than views.
    extra = [Client().get("/static/defensa/app.css"), Client().get("/no-such-page/")]
    assert extra[0].status_code == 200
    assert extra[1].status_code == 404
    problems = [
        f"{f.who} {f.path} ({f.response.status_code}): {p}"
        for f in fetched
        for p in csp_problems(f.response.get("Content-Security-Policy"))
    ] + [p for r in extra for p in csp_problems(r.get("Content-Security-Policy"))]
    assert len(fetched) > 20  # the crawl reached the project, not an empty list
    assert problems == [], "\n".join(problems)


def test_signed_in_pages_are_not_cached(net: testing.Network) -> None:
    users = {"pat": net.pat, "ana": net.ana, "admin": net.admin}
    cached = [
        f"{f.who} {f.path}: Cache-Control={f.response.get('Cache-Control')!r}"
        for f in fetch_all(users, network_samples(net))
        if "no-store" not in f.response.get("Cache-Control", "")
    ]
    assert cached == [], "\n".join(cached)
    # The sign-in page too: it is where a shared computer's back button would go.
    assert "no-store" in Client().get("/accounts/login/")["Cache-Control"]


def test_anonymous_public_pages_are_not_forced_to_no_store(db: None) -> None:
    # The converse: an anonymous home page without no-store shows the check is selective,
    # so the test above is not passing because everything is no-store.
    assert "no-store" not in Client().get("/").get("Cache-Control", "")


def test_logout_clears_the_browser(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.mo)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    cleared = {v.strip().strip('"') for v in response["Clear-Site-Data"].split(",")}
    assert {"cache", "cookies", "storage"} <= cleared
    assert client.get("/accounts/").status_code == 302  # really signed out


def test_hsts_when_https_is_on(tmp_path: Path, settings: SettingsWrapper) -> None:
    names = (
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    )
    production = settings_in(production_env(tmp_path), *names)
    assert production["SECURE_HSTS_SECONDS"] >= 31536000  # a year at least, for preload lists
    assert all(production[n] is True for n in names[1:])
    for name, value in production.items():
        setattr(settings, name, value)
    settings.ALLOWED_HOSTS = ["testserver"]
    response = Client().get("/", secure=True)
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    assert hsts == f"max-age={production['SECURE_HSTS_SECONDS']}; includeSubDomains; preload"
    plain = Client().get("/rights/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/rights/"


def test_no_hsts_on_loopback_demo() -> None:
    # `make run` serves plain HTTP on 127.0.0.1; HSTS there would lock a browser out of it.
    assert "Strict-Transport-Security" not in Client().get("/")


def test_rendered_pages_load_nothing_off_site_and_need_no_inline_code(
    net: testing.Network,
) -> None:
    users = {
        "anonymous": None,
        "pat": net.pat,
        "mo": net.mo,
        "dani": net.dani,
        "ana": net.ana,
        "admin": net.admin,
    }
    pages = [f for f in fetch_all(users, network_samples(net)) if f.is_html]
    ok_pages = {f.path for f in pages if f.response.status_code == 200}
    # Public and signed-in pages were really rendered (not only refusals).
    assert {"/", "/rights/", "/accounts/login/", "/accounts/"} <= ok_pages
    problems = [
        f"{f.who} {f.path}: {p}"
        for f in pages
        for p in scan_html(f.response.content.decode(f.response.charset or "utf-8"))
    ] + [
        f"{f.who} {f.path}: server error, page not scanned"
        for f in pages
        if f.response.status_code >= 500
    ]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<script src="https://cdn.example.com/x.js"></script>', "loads from off site"),
        ('<link rel="preconnect" href="//fonts.example.com">', "loads from off site"),
        ('<img src="https://tiles.example.com/1/2/3.png">', "loads from off site"),
        ('<iframe src="https://maps.example.com/"></iframe>', "loads from off site"),
        ('<form action="https://collect.example.com/"></form>', "loads from off site"),
        ("<script>alert(1)</script>", "inline <script>"),
        ('<p style="color:red">x</p>', "style= attribute"),
        ('<button onclick="go()">x</button>', "inline event handler"),
        ("<style>p{}</style>", "inline <style>"),
        ('<a href="https://example.org/" ping="https://t.example.com/">x</a>', "<a ping>"),
    ],
)
def test_page_scanner_catches(html: str, expected: str) -> None:
    problems = scan_html(html)
    assert len(problems) == 1
    assert expected in problems[0]


def test_page_scanner_allows_same_origin_and_plain_links() -> None:
    html = (
        '<link rel="stylesheet" href="/static/defensa/app.css">'
        '<script src="/static/accounts/passkey.js" defer></script>'
        '<img src="data:image/png;base64,AAAA" alt="">'
        '<a href="https://www.uscis.gov/">USCIS</a> <a href="tel:+12135550100">call</a>'
        '<form method="post" action=""></form>'
    )
    assert scan_html(html) == []
