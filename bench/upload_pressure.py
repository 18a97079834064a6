"""upload_pressure: hostile photo uploads against the public form; memory and a public page.

A real gunicorn (2 workers x 4 threads, the `scripts/serve` shape; scratch one-machine install)
on loopback. A client process keeps HOSTILE connections posting the public report form at once,
each post as soon as the last was answered (a closed loop), each with one photo that is cheap
to send and as costly as possible to serve, alternating:

- a decompression bomb: a 129 KiB PNG declaring 6,323 x 6,323 pixels (40 megapixels, what
  cost ~730 MiB and 1.7 s before the bound), refused from its header;
- the largest photo still accepted: a PNG of 5,000 x 5,000 (`DEFENSA_PHOTO_MAX_MEGAPIXELS`,
  25 megapixels) in ~82 KiB, which is decoded and re-encoded.

Meanwhile this process fetches the know-your-rights page (/rights/) one request after another
(a new connection each, as visitors' phones would) and times each answer.

Flood control is raised above the run's size: a flood from many addresses gets through the
per-source gate, and every post here comes from loopback (one source), as in intake_surge.

Figures: `peak_rss_mb` (the sum of the web workers' peak resident memory, VmHWM from /proc:
the kernel's own high-water mark, nothing missed between samples), `page_p95_ms` (/rights/
while the hostile uploads run), `hostile_requests` (posts answered during the run), and beside
them the idle p95 of the same page, the answers' statuses and the load average.
Targets (docs/performance.md, "Hostile uploads"): peak_rss_mb <= 800 (400 MB per worker),
page_p95_ms <= 300, and the server answers every hostile post (and some were sent).

`--quick` runs 10 s instead of 60 s.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from bench import ROOT, progress, result
from bench._server import p95, running_server

WORKERS, THREADS = 2, 4
HOSTILE = 8
BUDGET_PER_WORKER_MB = 400
TARGETS = {"peak_rss_mb": WORKERS * BUDGET_PER_WORKER_MB, "page_p95_ms": 300, "errors": 0}
PAGE = "/rights/"
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def run(quick: bool = False) -> dict:
    seconds = 10 if quick else 60
    idle_s = 3 if quick else 10
    extra = {"DEFENSA_REPORT_FLOOD_LIMIT": "10000000"}
    with running_server(workers=WORKERS, threads=THREADS, extra_env=extra) as server:
        workers = _worker_pids(server.pid)
        progress(f"workers {workers}; {PAGE} alone for {idle_s} s")
        idle = _probe_pages(server.url, idle_s)
        base_rss = _hwm_mb(workers)
        progress(f"idle p95 {p95(idle):.0f} ms, workers' peak so far {base_rss:.0f} MB")
        progress(f"{HOSTILE} hostile uploaders for {seconds} s, {PAGE} timed meanwhile")
        client = subprocess.Popen(
            [sys.executable, "-m", "bench.upload_pressure", "--hostile", server.url, str(seconds)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert client.stdout is not None  # noqa: S101
        ready = client.stdout.readline()  # the photos are built; the posts start now
        if not ready.startswith("ready"):
            raise RuntimeError(f"the hostile client did not start: {ready!r}")
        pressed = _probe_pages(server.url, seconds)
        out, _ = client.communicate()
        if client.returncode != 0:
            raise RuntimeError(f"the hostile client failed with {client.returncode}")
        hostile = json.loads(out.strip().splitlines()[-1])
        peak = _hwm_mb(workers)
        alive = _worker_pids(server.pid) == workers
    figures = {
        "peak_rss_mb": round(peak, 1),
        "page_p95_ms": round(p95(pressed), 1),
        "hostile_requests": hostile["answered"],
        "hostile_statuses": hostile["statuses"],
        "errors": hostile["errors"],
        "idle_page_p95_ms": round(p95(idle), 1),
        "pages_during": len(pressed),
        "rss_before_mb": round(base_rss, 1),
        "workers_survived": alive,
        "seconds": seconds,
        "cores": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
    }
    ok = (
        figures["peak_rss_mb"] <= TARGETS["peak_rss_mb"]
        and figures["page_p95_ms"] <= TARGETS["page_p95_ms"]
        and figures["errors"] == 0
        and figures["hostile_requests"] > 0  # no attack ran: nothing was measured
        and alive
    )
    return result("upload_pressure", figures, TARGETS, ok)


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text()
    return sorted(int(p) for p in children.split())


def _hwm_mb(pids: list[int]) -> float:
    """The sum of the processes' peak resident set sizes (VmHWM), in MB."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])  # kB
    return total / 1024


def _probe_pages(url: str, seconds: float) -> list[float]:
    """Fetch the page one request after another for `seconds`; each answer's time in ms."""
    parts = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.request("GET", PAGE, headers={"Accept-Language": "en"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{PAGE} answered {resp.status}")
        finally:
            conn.close()
        latencies.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.05)  # a visitor every 50 ms, not a flood of our own
    return latencies


# The hostile client process -----------------------------------------------------------------


def _png(side: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side), (12, 34, 56)).save(out, format="PNG")
    return out.getvalue()


def _multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    chunks = []
    for name, value in fields.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
        f'filename="raid.png"\r\nContent-Type: image/png\r\n\r\n'
    )
    body = "".join(chunks).encode() + photo + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _hostile(url: str, seconds: float) -> dict:
    parts = urllib.parse.urlsplit(url)
    photos = [_png(6323), _png(5000)]  # a bomb refused from its header; the largest accepted
    lock = threading.Lock()
    out: dict = {"answered": 0, "errors": 0, "statuses": {}}
    barrier = threading.Barrier(HOSTILE + 1)
    stop_at = [0.0]

    def uploader(n: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        conn.request("GET", "/report/new/")
        resp = conn.getresponse()
        html = resp.read().decode()
        cookie = "; ".join(c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or [])
        csrf = _CSRF.search(html).group(1)  # type: ignore[union-attr]
        conn.close()
        barrier.wait()
        i = n
        while time.monotonic() < stop_at[0]:
            fields = {
                "csrfmiddlewaretoken": csrf,
                "token": secrets.token_urlsafe(24),
                "category": "sighting",
                "zip_code": "90033",
            }
            body, content_type = _multipart(fields, photos[i % 2])
            i += 1
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
            try:
                conn.request(
                    "POST",
                    "/report/new/",
                    body=body,
                    headers={"Content-Type": content_type, "Cookie": cookie},
                )
                resp = conn.getresponse()
                resp.read()
                status = str(resp.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            finally:
                conn.close()
            with lock:
                out["statuses"][status] = out["statuses"].get(status, 0) + 1
                if status.isdigit() and int(status) < 500:
                    out["answered"] += 1
                else:
                    out["errors"] += 1

    threads = [threading.Thread(target=uploader, args=(n,)) for n in range(HOSTILE)]
    for thread in threads:
        thread.start()
    # Set before the barrier lets the uploaders go, or one could see 0 and stop at once.
    stop_at[0] = time.monotonic() + seconds
    barrier.wait()
    print("ready", flush=True)
    for thread in threads:
        thread.join()
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--hostile"]:
        url, seconds = sys.argv[2:4]
        print(json.dumps(_hostile(url, float(seconds))), flush=True)
    else:
        raise SystemExit("run it as: python -m bench upload_pressure [--quick]")
