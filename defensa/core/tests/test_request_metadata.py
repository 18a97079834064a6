"""Security property 2: no request metadata at rest.

Visitors' IP addresses and user agents must not reach the database, the files or the logs,
whether the request went through Django's test client or a real gunicorn like `make run`.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings

from defensa.core import testing
from defensa.core.access import access_of
from defensa.core.middleware import IDENTIFYING_META, ScrubRequestMetadataMiddleware
from defensa.core.tests import migrated
from defensa.core.tests.canary import (
    CANARY_HEADERS,
    CANARY_IP,
    CANARY_UA,
    dump_database,
    files_containing,
    record_text,
)
from defensa.core.tests.proc import PYTHON, REPO, clean_env
from defensa.core.tests.urlwalk import Samples, endpoints, sample_paths
from defensa.reports.models import Report

CANARIES = (CANARY_IP, CANARY_UA)


def test_middleware_replaces_metadata_with_a_source_tag(rf: RequestFactory) -> None:
    seen: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse()

    scrub = ScrubRequestMetadataMiddleware(view)
    scrub(rf.get("/", **CANARY_HEADERS))
    scrub(rf.get("/", **CANARY_HEADERS))
    scrub(rf.get("/", REMOTE_ADDR="198.51.100.4"))
    first, again, other = seen
    for key in IDENTIFYING_META:
        if key != "REMOTE_ADDR":
            assert key not in first.META
    assert first.META["REMOTE_ADDR"] == "0.0.0.0"  # noqa: S104 - a placeholder, not a bind
    assert not any(c in repr(first.META) for c in CANARIES)
    # The tag lets flood control recognise one source within the day, and nothing more.
    assert re.fullmatch(r"[0-9a-f]{20}", first.source_tag)  # type: ignore[attr-defined]
    assert first.source_tag == again.source_tag  # type: ignore[attr-defined]
    assert first.source_tag != other.source_tag  # type: ignore[attr-defined]
    assert CANARY_IP not in first.source_tag  # type: ignore[attr-defined]


def test_forwarded_for_decides_the_tag_behind_a_trusted_proxy(
    rf: RequestFactory, settings: Settings
) -> None:
    # Behind a proxy every request comes from the proxy; the address it appended is the
    # visitor, so two visitors behind one proxy get different tags.
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    seen: list[HttpRequest] = []
    scrub = ScrubRequestMetadataMiddleware(lambda r: seen.append(r) or HttpResponse())
    for visitor in ("198.51.100.1", "198.51.100.2"):
        scrub(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=visitor))
    assert seen[0].source_tag != seen[1].source_tag  # type: ignore[attr-defined]


def test_scrubbing_runs_before_every_other_middleware() -> None:
    assert django_settings.MIDDLEWARE[0] == (
        "defensa.core.middleware.ScrubRequestMetadataMiddleware"
    )


def _public_paths(net: testing.Network) -> list[str]:
    samples = Samples(ints=(net.boyle.pk,), slugs=(net.boyle.slug,))
    return sorted(
        {
            path
            for e in endpoints()
            if access_of(e.callback) == "public"
            for path in sample_paths(e, samples)
        }
    )


def test_no_canary_at_rest_after_public_pages_and_a_sign_in(
    net: testing.Network,
    settings: Settings,
    tmp_path: Path,
    all_logs: pytest.LogCaptureFixture,
    console: io.StringIO,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    started = time.time()
    visitor = Client(raise_request_exception=False, **CANARY_HEADERS)
    public_paths = _public_paths(net)
    statuses = {path: visitor.get(path).status_code for path in public_paths}
    statuses.update({f"POST {p}": visitor.post(p, {}).status_code for p in public_paths})
    visitor.get("/no-such-page/")  # a 404 is logged by Django's request logger
    # The public report flow, as a frightened witness would send it.
    form_page = visitor.get("/report/new/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', form_page)
    assert token, "the report form has no hidden token field"
    receipt = visitor.post(
        "/report/new/",
        {
            "category": "workplace_raid",
            "zip_code": "90033",
            "location_text": "Soto y Cesar Chavez",
            "description": "Camionetas sin placas frente al car wash",
            "token": token.group(1),
        },
    )
    assert receipt.status_code == 200 and Report.objects.count() == 1, "report not stored"
    # Sign-in: a wrong password (counted against the account), then the real thing.
    visitor.post("/accounts/login/", {"email": net.mo.email, "password": "wrong-password-1"})
    visitor.post("/accounts/login/", {"email": net.mo.email, "password": testing.PASSWORD})
    visitor.post("/accounts/login/second-step/", {"code": testing.totp_now(net.mo)})
    signed_in = visitor.get("/accounts/")
    signed_in_pages = [visitor.get(p).status_code for p in ("/accounts/security/", "/me/")]
    # A request refused by CSRF is logged on another path (django.security.csrf).
    Client(enforce_csrf_checks=True, **CANARY_HEADERS).post("/accounts/login/", {})

    # The flow really happened, so the absence of canaries below means something.
    assert statuses["/"] == 200 and statuses["/accounts/login/"] == 200
    assert signed_in.status_code == 200, "the sign-in flow did not complete"
    assert 200 in signed_in_pages
    net.mo.refresh_from_db()
    assert net.mo.last_login is not None

    found = [
        f"table {t}" for t, text in dump_database().items() if any(c in text for c in CANARIES)
    ]
    recent = [
        p
        for p in Path(django_settings.DATA_DIR).rglob("*")
        if p.is_file() and p.stat().st_mtime >= started
    ]
    found += files_containing([tmp_path, *recent], CANARIES)
    found += [
        f"log: {r.name}" for r in all_logs.records if any(c in record_text(r) for c in CANARIES)
    ]
    found += ["console log" for c in CANARIES if c in console.getvalue()]
    assert found == [], "\n".join(found)
    assert all_logs.records, "no log records were captured: the log check proves nothing"


def test_database_dump_finds_a_planted_canary(net: testing.Network) -> None:
    # The dump must be able to fail: plant a canary where a careless feature would.
    net.pat.display_name = CANARY_UA
    net.pat.save(update_fields=["display_name"])
    assert [t for t, text in dump_database().items() if CANARY_UA in text] == ["accounts_user"]


# -- a real server, started the way scripts/serve starts it --------------------------------


def _serve_command(port: int) -> list[str]:
    """The gunicorn command line from scripts/serve, so this test follows any change to it."""
    script = (REPO / "scripts" / "serve").read_text().replace("\\\n", " ")
    line = next(ln for ln in script.splitlines() if ln.strip().startswith(".venv/bin/gunicorn"))
    line = line.strip().removesuffix("&").strip()
    line = line.replace("${PORT}", str(port)).replace("${WEB_CONCURRENCY}", "1")
    line = line.replace("${WEB_THREADS}", "4")
    argv = shlex.split(line)
    assert not any(a.startswith("--access-log") for a in argv), "an access log records IPs"
    return argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_listening(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gunicorn exited early"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("gunicorn did not start listening")


class _Browser:
    """A visitor with the canary headers and a cookie jar (for the CSRF cookie)."""

    HEADERS = {
        "User-Agent": CANARY_UA,
        "X-Forwarded-For": CANARY_IP,
        "X-Real-IP": CANARY_IP,
        "Forwarded": f"for={CANARY_IP}",
    }

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def fetch(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback only
            self.base + path, data=data, headers=self.HEADERS
        )
        try:
            with self.opener.open(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no hidden {name} field in the page"
    return found.group(1)


@pytest.mark.own_databases
def test_gunicorn_as_served_keeps_no_canary(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = clean_env(data_dir, DEBUG="0", LOG_LEVEL="DEBUG")
    # What `make run` prepares before scripts/serve: a migrated database (the suite's migrated
    # template) and collectstatic, because production's manifest storage needs it.
    migrated.copy_sqlite(data_dir)
    prepare = (
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('collectstatic', interactive=False, verbosity=0)"
    )
    prepared = subprocess.run(  # noqa: S603
        [PYTHON, "-c", prepare], cwd=REPO, env=env, capture_output=True, timeout=60, check=False
    )
    assert prepared.returncode == 0, prepared.stderr.decode()
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own command line from scripts/serve
        _serve_command(port),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_until_listening(port, proc, timeout=10)
        browser = _Browser(port)
        statuses = [
            browser.fetch("/")[0],
            browser.fetch("/no-such-page/")[0],
            # No CSRF token: refused and logged by django.security.csrf.
            browser.fetch("/accounts/login/", {"email": "a@b.c", "password": "x"})[0],
        ]
        # The public report flow, stored in the scratch database that is searched below.
        status, page = browser.fetch("/report/new/")
        form = {
            "csrfmiddlewaretoken": _hidden(page, "csrfmiddlewaretoken"),
            "token": _hidden(page, "token"),
            "category": "checkpoint",
            "zip_code": "90022",
            "description": "Retén en Whittier y Atlantic",
        }
        statuses += [status, browser.fetch("/report/new/", form)[0]]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert statuses == [200, 404, 403, 200, 200]
    with contextlib.closing(sqlite3.connect(data_dir / "defensa.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM reports_report").fetchone() == (1,)
    logged = (out + err).decode(errors="replace")
    assert "Forbidden (CSRF" in logged, "the server's log was not captured: " + logged[-500:]
    found = [c for c in CANARIES if c in logged]
    found += files_containing([data_dir], CANARIES)
    assert found == [], "\n".join(found)
