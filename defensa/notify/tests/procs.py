"""Real `manage.py deliver` processes sharing one database with the test.

PostgreSQL: the workers connect to the live test database (tests must be transactional).
SQLite: the test database lives in memory, so the workers and a seeding script share a
migrated database file instead (built once per session, copied per test).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from defensa.core.tests import migrated
from defensa.notify.testing import SMTPPeer

REPO = Path(settings.BASE_DIR)
PY = sys.executable

SEED = """
import sys, time, django
django.setup()
from django.db import transaction
from defensa.notify.actions import Address, queue_message
prefix, count, priority = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with transaction.atomic():
    for n in range(count):
        queue_message(Address("email", f"{prefix}{n}@example.org"), "test_message", {},
                      priority=priority, idempotency_key=f"{prefix}:{n}", audit=False)
print(time.time())
"""

REPORT = """
import json, django
django.setup()
from defensa.notify.models import Delivery
print(json.dumps([
    {"address": d.resolve_address(), "status": d.status, "attempts": d.attempts,
     "lease_end": d.next_attempt_at.timestamp(),
     "log": list(d.attempt_log.values_list("status", flat=True))}
    for d in Delivery.objects.order_by("id")
]))
"""


def _base_env(smtp: SMTPPeer, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEFENSA_", "DJANGO_", "DATABASE_", "EMAIL_", "NOTIFY_"))
        and k not in {"DEBUG", "SECRET_KEY", "LOG_LEVEL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="defensa.settings",
        SECRET_KEY="notify-tests-not-secret-0123456789-abcdefghijklmnop",  # noqa: S105
        PYTHONDONTWRITEBYTECODE="1",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        EMAIL_USE_TLS="0",
        EMAIL_TIMEOUT="5",
        DEFAULT_FROM_EMAIL="alerts@defensa.test",
        NOTIFY_CONSOLE="0",
    )
    env.update(extra)
    return env


@dataclass
class Workers:
    env: dict[str, str]

    def python(self, code: str, *args: str) -> str:
        done = subprocess.run(
            [PY, "-c", code, *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def seed(self, prefix: str, count: int, priority: int) -> float:
        """Queue `count` messages in one committed transaction; return the commit time."""
        return float(self.python(SEED, prefix, str(count), str(priority)).strip())

    def report(self) -> list[dict]:  # type: ignore[type-arg]
        return json.loads(self.python(REPORT))  # type: ignore[no-any-return]

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [PY, "manage.py", "deliver", "--skip-checks", *args],
            cwd=REPO,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def wait_started(proc: subprocess.Popen[str]) -> None:
    """Block until a worker says it is running (its first stdout line)."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("deliver: started"), line


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 15) -> str:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return out + err


def wait_until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def workers(smtp_server, transactional_db, tmp_path):  # type: ignore[no-untyped-def]
    env = _base_env(smtp_server)
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        migrated.copy_sqlite(tmp_path)
        env["DEFENSA_DATA_DIR"] = str(tmp_path)
    return Workers(env)
