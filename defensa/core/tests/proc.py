"""Run the project in a separate process with a chosen environment.

Settings are computed once at import; what production gets from its environment can only
be seen by importing them afresh in another process.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings

REPO = Path(settings.BASE_DIR)
PYTHON = sys.executable


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The parent's environment without anything that configures Defensa, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEFENSA_", "DJANGO_", "DATABASE_", "SECRET_KEY", "LOG_LEVEL"))
        and k not in {"DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="defensa.settings",
        DEFENSA_DATA_DIR=str(data_dir),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    production = {
        "DEBUG": "0",
        "DEFENSA_HTTPS": "1",
        "SECRET_KEY": secrets.token_urlsafe(45)[:60],
        "ALLOWED_HOSTS": "defensa.example.org",
        "DEFENSA_MASTER_KEYS": "prod1:"
        + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    return clean_env(data_dir, **{**production, **extra})


def settings_in(env: dict[str, str], *names: str) -> dict[str, Any]:
    """The named settings as that environment would produce them (JSON-able ones only)."""
    code = (
        "import json, sys, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({n: getattr(settings, n) for n in sys.argv[1:]}, default=str))"
    )
    done = subprocess.run(
        [PYTHON, "-c", code, *names],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
