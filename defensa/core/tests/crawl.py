"""Fetch every page of the project as a given persona, and scan HTML for what CSP forbids.

Shared by the header, third-party and metadata tests so that each new view is covered
without anyone remembering to add it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.http import HttpResponse
from django.test import Client

from defensa.accounts.models import User
from defensa.core import testing
from defensa.core.tests.urlwalk import Samples, endpoints, sample_paths

TEST_HOST = "testserver"


@dataclass(frozen=True)
class Fetched:
    who: str
    path: str
    response: HttpResponse

    @property
    def is_html(self) -> bool:
        return self.response.get("Content-Type", "").startswith("text/html")


def network_samples(net: testing.Network) -> Samples:
    ids = {net.ana.pk, net.boyle.pk, net.ana.memberships.get().pk}  # type: ignore[attr-defined]
    return Samples(ints=tuple(sorted(ids)), slugs=(net.boyle.slug,))


def fetch_all(
    users: dict[str, User | None], samples: Samples, *, factor: str = "passkey"
) -> Iterator[Fetched]:
    """GET every sample path of every URL pattern as each persona (None: anonymous)."""
    paths = sorted({p for e in endpoints() for p in sample_paths(e, samples)})
    for who, user in users.items():
        # A crash becomes a 500 response here (as in production) so one broken page does not
        # hide the headers of all the others; the scan test reports 500s as findings.
        client = Client(raise_request_exception=False)
        if user is not None:
            testing.sign_in(client, user, factor=factor)
        for path in paths:
            yield Fetched(who, path, client.get(path))
        # A GET must never have signed the persona out; if one did, later pages were
        # fetched anonymously and the scan would be weaker than it claims.
        if user is not None:
            assert client.get("/accounts/").status_code == 200, f"{who} lost the session"


# Tags whose URL attributes make the browser load something (as opposed to a link a person
# chooses to follow).
_LOADING_ATTRS = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "form": ("action",),
    "input": ("src", "formaction"),
    "button": ("formaction",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}


def _off_site(url: str, host: str) -> bool:
    url = url.strip()
    if url.startswith("data:") or url.startswith("#"):
        return False
    for candidate in url.split(","):  # srcset lists several "url width" items
        parts = urlsplit(candidate.strip().split(" ")[0])
        if parts.scheme not in ("", "http", "https") or (parts.netloc and parts.netloc != host):
            return True
    return False


class PageScanner(HTMLParser):
    """Collect everything in a page that loads from another origin or needs inline code."""

    def __init__(self, host: str = TEST_HOST) -> None:
        super().__init__(convert_charrefs=True)
        self.host = host
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name == "style":
                self.problems.append(f"style= attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"inline event handler {name}= on <{tag}>")
            if value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in <{tag} {name}>")
        for name in _LOADING_ATTRS.get(tag, ()):
            if name in values and _off_site(values[name], self.host):
                self.problems.append(f"<{tag} {name}={values[name]!r}> loads from off site")
        if tag == "a" and "ping" in values:
            self.problems.append("<a ping> reports clicks to a third party")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            target = values.get("content", "").partition("url=")[2]
            if target and _off_site(target, self.host):
                self.problems.append("<meta refresh> to another site")
        if tag == "script" and "src" not in values:
            # JSON data blocks too: CSP without 'unsafe-inline' blocks every script without src.
            self.problems.append("inline <script> without src")
        if tag == "style":
            self.problems.append("inline <style> element")


def scan_html(html: str, host: str = TEST_HOST) -> list[str]:
    scanner = PageScanner(host)
    scanner.feed(html)
    scanner.close()
    return scanner.problems
