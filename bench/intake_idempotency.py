"""intake_idempotency: the same submission retried never makes a second Report.

Drives the public form (/report/new/) of a real gunicorn (2 workers x 4 threads, scratch
one-machine install: SQLite in WAL mode) over loopback. Each submission is one form page
(one hidden token) posted three times: twice at the same moment (a phone retrying while the
first attempt is still in flight) and once more afterwards. Every answer must be the receipt
with the same reference code, and the database must hold exactly one Report per submission.

Figures: `retries` (posts beyond the first of each submission), `duplicates` (Reports beyond
one per submission), `lost` (submissions with no Report), `mismatched` (a retry answered
with another reference), `errors` (non-200 answers). Target: all zero.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from bench import ROOT, progress, result
from bench._server import running_server

TARGETS = {"duplicates": 0, "lost": 0, "mismatched": 0, "errors": 0}
ATTEMPTS = 3
_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_REFERENCE = re.compile(r'class="hotline mono"[^>]*>(?:<span[^>]*>)?([A-Z0-9]{6})<')


def _open_form(url: str) -> tuple[str, str, str]:
    """(cookie header, csrf form token, idempotency token) from a fresh form page."""
    with urllib.request.urlopen(url + "/report/new/", timeout=30) as resp:  # noqa: S310
        html = resp.read().decode()
        cookies = [h.split(";")[0] for h in resp.headers.get_all("Set-Cookie") or []]
    return "; ".join(cookies), _CSRF.search(html).group(1), _TOKEN.search(html).group(1)  # type: ignore[union-attr]


def _post(url: str, form: tuple[str, str, str], i: int) -> tuple[int, str]:
    cookie, csrf, token = form
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": csrf,
            "token": token,
            "category": "workplace_raid",
            "location_text": f"Warehouse {i}",
            "zip_code": random.Random(i).choice(["90033", "90022", "90011", "90006", "90255"]),
            "agents": str(i % 9),
            "description": f"bench submission {i}",
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        url + "/report/new/",
        data=body,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
            found = _REFERENCE.search(resp.read().decode())
            return resp.status, found.group(1) if found else ""
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def run(quick: bool = False) -> dict:
    submissions = 40 if quick else 200
    extra = {"DEFENSA_REPORT_FLOOD_LIMIT": "1000000"}  # every post comes from loopback
    with running_server(workers=2, threads=4, extra_env=extra) as server:
        forms = [_open_form(server.url) for _ in range(submissions)]
        progress(f"{submissions} submissions x {ATTEMPTS} posts, two of them at once")
        answers: dict[int, list[tuple[int, str]]] = {i: [] for i in range(submissions)}

        def twice_at_once(i: int) -> None:
            with ThreadPoolExecutor(max_workers=2) as pair:
                for status in pair.map(lambda _: _post(server.url, forms[i], i), range(2)):
                    answers[i].append(status)

        order = list(range(submissions))
        random.Random(7).shuffle(order)
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(twice_at_once, order))
            list(pool.map(lambda i: answers[i].append(_post(server.url, forms[i], i)), order))
        done = subprocess.run(
            [sys.executable, "-m", "bench.intake_idempotency", "--count"],
            input=json.dumps([token for _, _, token in forms]),
            cwd=ROOT,
            env=server.env,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        counts = json.loads(done.stdout.strip().splitlines()[-1])
    statuses = [s for replies in answers.values() for s, _ in replies]
    mismatched = sum(len({ref for _, ref in replies}) != 1 for replies in answers.values())
    figures = {
        "submissions": submissions,
        "retries": len(statuses) - submissions,
        "duplicates": counts["reports"] - counts["distinct"],
        "lost": submissions - counts["distinct"],
        "mismatched": mismatched,
        "errors": sum(s != 200 for s in statuses),
        "via": "public form on gunicorn (2 workers x 4 threads)",
    }
    ok = all(figures[k] == 0 for k in TARGETS)
    return result("intake_idempotency", figures, TARGETS, ok)


def _count(tokens: list[str]) -> dict:
    import django

    django.setup()
    from defensa.reports.actions import key_digest
    from defensa.reports.models import Report

    keys = {key_digest(f"web:{token}") for token in tokens}
    stored = list(Report.objects.values_list("idempotency_key", flat=True))
    return {"reports": len(stored), "distinct": len(set(stored) & keys)}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
    if sys.argv[1:] == ["--count"]:
        print(json.dumps(_count(json.loads(sys.stdin.read()))), flush=True)
    else:
        raise SystemExit("run it as: python -m bench intake_idempotency [--quick]")
