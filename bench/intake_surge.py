"""intake_surge: public report POSTs at full load through gunicorn, 30% duplicates.

A real gunicorn (2 workers x 4 threads, the `scripts/serve` shape; scratch one-machine
install: SQLite in WAL mode) on loopback takes the public form (/report/new/) from two client
processes of 4 keep-alive connections each, every connection posting as soon as its last
answer arrived (a closed loop: full load without an unbounded queue). Each connection loads
the form once for its CSRF cookie and then posts new submissions, each on a new connection
(each witness is another phone) with its own hidden token: 70% new raids somewhere in Los
Angeles (half with a phone's GPS, half only a ZIP), 15% near duplicates (a second witness
of an earlier raid: same place a few metres off, its
own token) and 15% exact duplicates (a phone retrying an earlier submission: same token).

`BENCH_GUNICORN_WORKERS=1` runs one gunicorn worker instead of two (to tell SQLite's
cross-process write contention from plain CPU); `BENCH_GUNICORN_THREADS` sets each worker's
threads (4, as `scripts/serve`).

`BENCH_INTAKE_PHOTOS=0.2` attaches a photo to that share of the new submissions (a retry
sends its photo again): one real 3.3 MB JPEG (3.6 megapixels of noise, which a JPEG cannot
compress), made once with Pillow and posted as multipart form data. The web workers'
resident memory is read from /proc every half second meanwhile: `rss_start_mb`,
`rss_middle_mb`, `rss_end_mb` (the workers' VmRSS summed, at the first, middle and last
sample of the loaded phase) and `peak_rss_mb` (their VmHWM summed: the kernel's own
high-water mark). A photo refused because the worker was decoding others
(`photos_refused_busy`: the form again with "send again in a minute", by design,
docs/performance.md "Hostile uploads") is counted apart from the errors.

`BENCH_INTAKE_DATABASE_URL=postgres://...` runs the same against PostgreSQL (the database is
dropped and made anew: give the benchmark its own) with `BENCH_GUNICORN_WORKERS` web
processes as before.

Flood control stays on, with its limit raised above the run's size: every post comes from
loopback, one source to the gate (as in intake_idempotency).

The same server's trivial view (/robots.txt) is measured the same way for a few seconds
first: `ratio_to_trivial` is accepted_per_s over that rate.

Figures: `accepted_per_s` (receipts, HTTP 200, per second of the loaded phase), `p99_ms` (of
every post), `errors` (any other answer or a failed connection), `lost` (a receipt whose
submission is not in the database, or answered with another reference), `ratio_to_trivial`.
Targets: accepted_per_s >= 200, p99_ms <= 300, errors 0, lost 0.

Whether the load is what it says: `connections` (how many of the 8 posted at all),
`mean_ms` (in a closed loop, accepted_per_s is about connections / mean_ms),
`client_outside_ms_per_post` (each connection's own time between one post's answer and the
next post: building the form, reading the reference) and `client_cpu_ms_per_post` (the
client processes' CPU). From the benchmark's first version (2026-11-29) to 2026-12-05 the
deadline was set after the connections were let go, and a connection that read it first saw
0, posted nothing and left: those runs loaded the server from fewer than 8 connections (about
1 in the 2026-12-05 00:39 run: 77.7/s at a p50 of 12 ms), so their latencies are too low and
their rates are not the server's limit.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench import ROOT, progress, result
from bench._server import running_server

TARGETS = {"accepted_per_s": 200, "p99_ms": 300, "errors": 0, "lost": 0}
CLIENTS, CONNECTIONS = 2, 4
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
PHOTO_SHARE = float(os.environ.get("BENCH_INTAKE_PHOTOS", "0") or 0)
DATABASE_URL = os.environ.get("BENCH_INTAKE_DATABASE_URL", "")
_BUSY = b"Too many photos are being processed"
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_REFERENCE = re.compile(rb'class="hotline mono"[^>]*>(?:<span[^>]*>)?([A-Z0-9]{6})<')
ZIPS = ["90033", "90022", "90011", "90006", "90255", "90063", "90023", "90001", "90037"]
ZIPS += ["90044", "90003", "90280", "90201", "90040", "90031", "90032", "90065", "90026"]
CATEGORIES = ["workplace_raid", "checkpoint", "home_arrest", "vehicle_stop", "sighting"]


def run(quick: bool = False) -> dict:
    seconds = 15 if quick else 120
    trivial_s = 3 if quick else 8
    extra = {"DEFENSA_REPORT_FLOOD_LIMIT": "10000000"}
    if DATABASE_URL:
        _fresh_database(DATABASE_URL)
        extra["DATABASE_URL"] = DATABASE_URL
    photo_dir = tempfile.mkdtemp(prefix="defensa-bench-photo-")
    if PHOTO_SHARE:
        os.environ["BENCH_INTAKE_PHOTO_FILE"] = _make_photo(photo_dir)
    try:
        with running_server(workers=WORKERS, threads=THREADS, extra_env=extra) as server:
            return _measure(server, seconds, trivial_s)
    finally:
        shutil.rmtree(photo_dir, ignore_errors=True)


def _measure(server, seconds: float, trivial_s: float) -> dict:  # type: ignore[no-untyped-def]
    progress(f"trivial view for {trivial_s} s")
    cpu0 = server.cpu_seconds()
    trivial = _load(server.url, trivial_s, "trivial")
    cpu1 = server.cpu_seconds()
    trivial_rate = trivial["ok"] / trivial["seconds"]
    progress(f"trivial: {trivial_rate:.0f}/s; public report posts for {seconds} s")
    memory = _Memory(_worker_pids(server.pid))
    memory.start()
    try:
        surge = _load(server.url, seconds, "report")
    finally:
        memory.stop()
    cpu2 = server.cpu_seconds()
    progress("checking every receipt against the database")
    done = subprocess.run(
        [sys.executable, "-m", "bench.intake_surge", "--count"],
        input=json.dumps(surge["receipts"]),
        cwd=ROOT,
        env=server.env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    if surge["errors"]:
        log = (server.data_dir / "gunicorn.log").read_text(errors="replace")
        progress(f"errors {surge['error_statuses']}; the server's log ends:\n{log[-3000:]}")
    latencies = sorted(surge["latencies"])
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0
    accepted = surge["ok"] / surge["seconds"]
    figures = {
        "accepted_per_s": round(accepted, 1),
        "p99_ms": round(p99, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else 0.0,
        "mean_ms": round(sum(latencies) / len(latencies), 1) if latencies else 0.0,
        # What the closed loop spends per post outside the timed span (building the form,
        # reading the reference) and the clients' own CPU: is the load generator the limit?
        "client_outside_ms_per_post": round(surge["outside_ms"] / max(1, len(latencies)), 2),
        "client_cpu_ms_per_post": round(surge["client_cpu_s"] * 1000 / max(1, len(latencies)), 2),
        "connections": surge["connections_used"],  # that posted at all, of CLIENTS x CONNECTIONS
        "errors": surge["errors"],
        "error_statuses": surge["error_statuses"],  # HTTP status, or the client's exception
        "lost": counts["missing"] + counts["mismatched"],
        "posts": len(latencies),
        "duplicates_posted": surge["duplicates"],
        "reports": counts["reports"],
        "incidents": counts["incidents"],
        "trivial_per_s": round(trivial_rate, 1),
        # The server's own CPU per answer: what a shared machine's load does not change much.
        "server_cpu_ms_per_post": round((cpu2 - cpu1) * 1000 / max(1, len(latencies)), 2),
        "server_cpu_ms_per_trivial": round(
            (cpu1 - cpu0) * 1000 / max(1, len(trivial["latencies"])), 2
        ),
        "ratio_to_trivial": round(accepted / trivial_rate, 3) if trivial_rate else None,
        "seconds": round(surge["seconds"], 1),
        "cores": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "database": "postgresql" if DATABASE_URL else "sqlite",
        "web_workers": WORKERS,
        "web_threads": THREADS,
        **memory.figures(),
    }
    if PHOTO_SHARE:
        figures["photo_share"] = PHOTO_SHARE
        figures["photo_mb"] = round(os.path.getsize(os.environ["BENCH_INTAKE_PHOTO_FILE"]) / 1e6, 2)
        figures["photos_posted"] = surge["photos"]
        figures["photos_refused_busy"] = surge["busy"]
    ok = (
        accepted >= TARGETS["accepted_per_s"]
        and p99 <= TARGETS["p99_ms"]
        and figures["errors"] == 0
        and figures["lost"] == 0
    )
    return result("intake_surge", figures, TARGETS, ok)


def _fresh_database(url: str) -> None:
    """Drop and make the benchmark's own PostgreSQL database (never point it at real data)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _make_photo(directory: str) -> str:
    """One real JPEG of about 3 MB, made once per run: noise, so the encoder cannot shrink it."""
    from PIL import Image

    path = os.path.join(directory, "surge.jpg")
    noise = random.Random(2026).randbytes(2200 * 1650 * 3)
    Image.frombytes("RGB", (2200, 1650), noise).save(path, "JPEG", quality=90)  # 3.27 MB
    return path


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text()
    return sorted(int(p) for p in children.split())


class _Memory(threading.Thread):
    """Samples the web workers' resident memory (VmRSS) every half second."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.samples: list[float] = []
        self.done = threading.Event()

    def _status_mb(self, field: str) -> float:
        total = 0
        for pid in self.pids:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(field):
                        total += int(line.split()[1])  # kB
        return total / 1024

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append(self._status_mb("VmRSS:"))
            self.done.wait(0.5)

    def stop(self) -> None:
        self.done.set()
        self.join()
        self.samples.append(self._status_mb("VmRSS:"))
        self.peak = self._status_mb("VmHWM:")

    def figures(self) -> dict:
        samples = self.samples or [0.0]
        return {
            "rss_start_mb": round(samples[0], 1),
            "rss_middle_mb": round(samples[len(samples) // 2], 1),
            "rss_end_mb": round(samples[-1], 1),
            "peak_rss_mb": round(self.peak, 1),
        }


def _load(url: str, seconds: float, kind: str) -> dict:
    """Run the client processes at once; merge what they saw."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.intake_surge",
                "--client",
                url,
                str(seconds),
                kind,
                str(i),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(CLIENTS)
    ]
    merged: dict = {"ok": 0, "errors": 0, "duplicates": 0, "latencies": [], "receipts": []}
    merged.update(error_statuses={}, photos=0, busy=0, outside_ms=0.0, client_cpu_s=0.0)
    merged.update(connections_used=0)
    started, ended = [], []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"a load client failed with {proc.returncode}")
        part = json.loads(out.strip().splitlines()[-1])
        for key in ("ok", "errors", "duplicates", "photos", "busy", "outside_ms", "client_cpu_s"):
            merged[key] += part[key]
        merged["connections_used"] += part["connections_used"]
        merged["latencies"] += part["latencies"]
        for status, count in part["error_statuses"].items():
            merged["error_statuses"][status] = merged["error_statuses"].get(status, 0) + count
        merged["receipts"] += part["receipts"]
        started.append(part["started"])
        ended.append(part["ended"])
    merged["seconds"] = max(ended) - min(started)
    return merged


# The client process -------------------------------------------------------------------------


def _client(url: str, seconds: float, kind: str, index: int) -> dict:
    from defensa.core import geo

    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    lock = threading.Lock()
    out: dict = {"ok": 0, "errors": 0, "duplicates": 0, "latencies": [], "receipts": []}
    out.update(error_statuses={}, photos=0, busy=0, outside_ms=0.0, connections_used=0)
    photo_file = os.environ.get("BENCH_INTAKE_PHOTO_FILE", "")
    photo = Path(photo_file).read_bytes() if photo_file and PHOTO_SHARE else b""
    stop_at = [0.0]
    marks: dict = {}

    def start() -> None:
        # Run by the barrier before it lets any thread go: every connection sees the deadline.
        # (Set by the main thread after the barrier, a connection that got past it first
        # read a deadline of 0, posted nothing and left: runs had fewer than 8 connections
        # loading the server.)
        marks["cpu0"] = time.process_time()
        out["started"] = time.time()
        stop_at[0] = time.monotonic() + seconds

    barrier = threading.Barrier(CONNECTIONS + 1, action=start)

    def connection_loop(n: int) -> None:
        rng = random.Random(index * 1000 + n)
        conn = http.client.HTTPConnection(host, port, timeout=60)
        cookie = csrf = ""
        if kind == "report":
            conn.request("GET", "/report/new/")
            resp = conn.getresponse()
            html = resp.read().decode()
            cookie = "; ".join(c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or [])
            csrf = _CSRF.search(html).group(1)  # type: ignore[union-attr]
        sent: list[dict] = []  # this connection's accepted submissions
        barrier.wait()
        outside = 0.0  # the client's own time between one timed span and the next
        last_end = 0.0
        while time.monotonic() < stop_at[0]:
            duplicate = with_photo = False
            if kind == "trivial":
                method, path, body, headers = "GET", "/robots.txt", None, {}
            else:
                form, duplicate = _submission(rng, sent, geo)
                if photo and not duplicate and "photo" not in form:
                    form["photo"] = "1" if rng.random() < PHOTO_SHARE else ""
                with_photo = bool(photo and form.get("photo"))
                fields = {k: v for k, v in form.items() if k != "photo"}
                fields["csrfmiddlewaretoken"] = csrf
                method, path = "POST", "/report/new/"
                headers = {
                    "Connection": "close",  # each witness is another phone
                    "Cookie": cookie,
                    "Accept-Language": "en",
                }
                if with_photo:
                    body, headers["Content-Type"] = _multipart(fields, photo)
                else:
                    body = urllib.parse.urlencode(fields).encode()
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
            t0 = time.perf_counter()
            if last_end:
                outside += t0 - last_end
            try:
                if kind == "report":
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=60)
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                page = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                status, page = type(exc).__name__, b""
            last_end = time.perf_counter()
            ms = (last_end - t0) * 1000
            found = _REFERENCE.search(page) if kind == "report" and status == 200 else None
            with lock:
                out["latencies"].append(ms)
                out["photos"] += kind == "report" and with_photo
                if status == 400 and kind == "report" and with_photo and _BUSY in page:
                    out["busy"] += 1  # by design: one decode at a time per worker
                elif status == 200:
                    out["ok"] += 1
                    out["duplicates"] += duplicate
                    if kind == "report":
                        ref = found.group(1).decode() if found else ""
                        out["receipts"].append([form["token"], ref])
                        if not duplicate:
                            sent.append(form)
                else:
                    out["errors"] += 1
                    out["error_statuses"][str(status)] = (
                        out["error_statuses"].get(str(status), 0) + 1
                    )
        conn.close()
        with lock:
            out["outside_ms"] += outside * 1000
            out["connections_used"] += bool(last_end)

    threads = [threading.Thread(target=connection_loop, args=(n,)) for n in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    out["ended"] = time.time()
    out["client_cpu_s"] = time.process_time() - marks["cpu0"]
    return out


def _multipart(fields: dict, photo: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="photo.jpg"'
        "\r\nContent-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _submission(rng: random.Random, sent: list[dict], geo) -> tuple[dict, bool]:  # type: ignore[no-untyped-def]
    roll = rng.random()
    if sent and roll < 0.15:
        return dict(rng.choice(sent)), True  # a retry: the very same submission
    if sent and roll < 0.30:
        earlier = rng.choice(sent)  # another witness of the same raid
        form = dict(earlier, token=secrets.token_urlsafe(24), description="I see it too")
        if earlier.get("lat"):
            form["lat"] = f"{float(earlier['lat']) + rng.uniform(-0.0003, 0.0003):.6f}"
            form["lon"] = f"{float(earlier['lon']) + rng.uniform(-0.0003, 0.0003):.6f}"
        return form, False
    zip_code = rng.choice(ZIPS)
    form = {
        "token": secrets.token_urlsafe(24),
        "category": rng.choice(CATEGORIES),
        "location_text": f"Near {rng.randint(100, 9999)} {rng.choice(['Main', 'Soto', '1st'])}",
        "zip_code": zip_code,
        "agents": str(rng.randint(1, 30)),
        "description": "agents outside",
    }
    centre = geo.zip_centroid(zip_code)
    if centre and rng.random() < 0.5:
        form["lat"] = f"{centre[0] + rng.uniform(-0.02, 0.02):.6f}"
        form["lon"] = f"{centre[1] + rng.uniform(-0.02, 0.02):.6f}"
        form["accuracy"] = str(rng.choice([10, 30, 80]))
    return form, False


def _count(receipts: list[list[str]]) -> dict:
    import django

    django.setup()
    from defensa.incidents.models import Incident
    from defensa.reports.actions import key_digest
    from defensa.reports.models import Report

    stored = dict(Report.objects.values_list("idempotency_key", "reference"))
    missing = mismatched = 0
    for token, reference in receipts:
        found = stored.get(key_digest(f"web:{token}"))
        if found is None:
            missing += 1
        elif found != reference:
            mismatched += 1
    return {
        "missing": missing,
        "mismatched": mismatched,
        "reports": len(stored),
        "incidents": Incident.objects.count(),
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
    if sys.argv[1:2] == ["--count"]:
        print(json.dumps(_count(json.loads(sys.stdin.read()))), flush=True)
    elif sys.argv[1:2] == ["--client"]:
        url, seconds, kind, index = sys.argv[2:6]
        print(json.dumps(_client(url, float(seconds), kind, int(index))), flush=True)
    else:
        raise SystemExit("run it as: python -m bench intake_surge [--quick]")
