"""Start the real server for a benchmark: a scratch data dir, migrated, static collected,
and gunicorn on a free loopback port. Stopped (and the scratch dir removed) on exit."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import ROOT, progress


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scratch_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh one-machine install: SQLite in `data_dir`, no demo."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "defensa.settings",
            "DEFENSA_DATA_DIR": str(data_dir),
            "DEBUG": "0",
            "DEFENSA_DEMO": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args, "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


@dataclass
class Server:
    url: str
    env: dict[str, str]
    data_dir: Path
    pid: int = 0  # gunicorn's master process

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by gunicorn's master and its workers."""
        pids = [self.pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
            pids += [int(p) for p in children.split()]
        total = 0.0
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


@contextlib.contextmanager
def running_server(
    workers: int = 1, threads: int = 4, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    data_dir = Path(tempfile.mkdtemp(prefix="defensa-bench-"))
    env = scratch_env(data_dir, **(extra_env or {}))
    proc = None
    try:
        progress(f"preparing a scratch install in {data_dir}")
        manage(env, "compile_translations")
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (data_dir / "gunicorn.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                # A harness-only profiler around the same application (bench/_profiled_wsgi.py).
                "bench._profiled_wsgi:application"
                if os.environ.get("BENCH_PROFILE_DIR")
                else "defensa.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--error-logfile",
                "-",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait_until_up(url, proc, data_dir)
        progress(f"gunicorn (pid {proc.pid}) answers on {url}")
        yield Server(url=url, env=env, data_dir=data_dir, pid=proc.pid)
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_until_up(url: str, proc: subprocess.Popen, data_dir: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (data_dir / "gunicorn.log").read_text(errors="replace")
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log}")
        try:
            with urllib.request.urlopen(url + "/robots.txt", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {url} within {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    progress(f"gunicorn (pid {proc.pid}) stopped")


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def run_child(module: str, *args: str) -> dict:
    """Run `python -m bench.MODULE --child ARGS` in a throwaway install; return its JSON line."""
    with tempfile.TemporaryDirectory(prefix="defensa-bench-") as tmp:
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{module}", "--child", *args],
            cwd=ROOT,
            env=scratch_env(Path(tmp) / "data"),
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def twilio_env(peer, rate: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Settings pointing a worker at a Twilio-compatible peer on loopback, at `rate`."""
    from defensa.testing.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

    return {
        "TWILIO_API_BASE": peer.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_RATE": rate,
        "NOTIFY_CONSOLE": "0",
    }


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    """Start `manage.py deliver` and wait until it says it is running."""
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "deliver", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None  # noqa: S101
    line = proc.stdout.readline()
    if not line.startswith("deliver: started"):
        proc.kill()
        raise RuntimeError(f"the worker did not start: {line!r}")
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    """SIGTERM: the worker finishes its sends in flight, gives back the rest, and exits."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
