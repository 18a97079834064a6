"""`manage.py check --deploy` refuses a production setup that would be unsafe in a crisis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


def master_key_problem() -> str:
    """Why the master key is not safely kept (the readiness page says it too), or ""."""
    from defensa.core.crypto import keys

    if not settings.MASTER_KEYS.strip():
        return (
            "no DEFENSA_MASTER_KEYS: the master key would be generated into the data directory "
            f"({settings.MASTER_KEY_DEV_FILE.name}), where whoever takes the disk finds it"
        )
    current = keys.master_keys()
    if current.current_id == keys.DEV_KEY_ID:
        return "the current master key is the development key (id `dev`)"
    source = settings.MASTER_KEYS_SOURCE
    if source and Path(source).resolve().is_relative_to(Path(settings.DATA_DIR).resolve()):
        return "DEFENSA_MASTER_KEYS_FILE is inside DEFENSA_DATA_DIR, beside the data it protects"
    return ""


@register(Tags.security, deploy=True)
def production_safety(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    found: list[Error | Warning] = []
    problem = master_key_problem()
    if problem:
        found.append(
            Error(
                problem,
                hint="Set DEFENSA_MASTER_KEYS_FILE to a file outside the data directory "
                "(docs/security-operations.md).",
                id="defensa.E001",
            )
        )
    if settings.DEMO:
        found.append(
            Error(
                "DEFENSA_DEMO=1: the demo seed may run, everyone is told people are fictional "
                "and coordinators may sign in without a passkey",
                hint="Unset DEFENSA_DEMO on a real network.",
                id="defensa.E002",
            )
        )
    if settings.SECURE_PROXY_SSL_HEADER and not settings.TRUSTED_PROXIES:
        found.append(
            Warning(
                "DEFENSA_BEHIND_PROXY=1 but DEFENSA_TRUSTED_PROXIES is empty: every visitor "
                "comes from the proxy's address, so one flood of reports slows everyone",
                hint="Set DEFENSA_TRUSTED_PROXIES to your proxy's address (docs/install.md).",
                id="defensa.W001",
            )
        )
    return found
