"""The data classification registry (security property 1).

Every field of every model is classified: how sensitive it is, how long it may be kept and
which roles may read it. Our models declare `DATA_CLASSIFICATION` as a class attribute;
models that come from Django or a dependency are classified in THIRD_PARTY below.
A test walks every installed model and fails on a field that is not classified, and on any
column that looks like it holds an IP address or a user agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Level(StrEnum):
    PUBLIC = "public"  # may be shown to anyone
    INTERNAL = "internal"  # members of the right committee
    SENSITIVE = "sensitive"  # need to know; masked until revealed, reveals audited
    SECRET = "secret"  # noqa: S105  never shown; credentials, keys, token hashes


# Retention: how long a value may be kept. "account" means while the person's account exists
# (deleted with it); "committee" while the committee exists; "audit" as long as the audit chain
# (which holds only ids and action names); a timedelta is a fixed lifetime after creation.
Retention = str | timedelta
ACCOUNT = "account"
COMMITTEE = "committee"
AUDIT = "audit"
SYSTEM = "system"  # framework bookkeeping, no personal data


@dataclass(frozen=True)
class FieldClass:
    level: Level
    retention: Retention
    readers: tuple[str, ...] = ()


def c(level: Level, retention: Retention, *readers: str) -> FieldClass:
    return FieldClass(level, retention, tuple(readers))


PUBLIC, INTERNAL, SENSITIVE, SECRET = Level.PUBLIC, Level.INTERNAL, Level.SENSITIVE, Level.SECRET

_sys = c(INTERNAL, SYSTEM, "admin")

THIRD_PARTY: dict[str, dict[str, FieldClass]] = {
    "auth.permission": {"id": _sys, "name": _sys, "content_type": _sys, "codename": _sys},
    "auth.group": {"id": _sys, "name": _sys, "permissions": _sys},
    "contenttypes.contenttype": {"id": _sys, "app_label": _sys, "model": _sys},
    "sessions.session": {
        "session_key": c(SECRET, timedelta(hours=12)),
        "session_data": c(SECRET, timedelta(hours=12)),
        "expire_date": c(INTERNAL, timedelta(hours=12)),
    },
    "django_tasks_database.dbtaskresult": {
        # Tasks carry ids only (house style: pass ids to tasks, not objects).
        f: c(INTERNAL, timedelta(days=7), "admin")
        for f in (
            "id",
            "status",
            "enqueued_at",
            "started_at",
            "finished_at",
            "args_kwargs",
            "priority",
            "task_path",
            "worker_ids",
            "queue_name",
            "backend_name",
            "run_after",
            "return_value",
            "exception_class_path",
            "traceback",
        )
    },
}

# Column names that would hold request metadata. No model may have one.
FORBIDDEN_COLUMN_PATTERN = r"(^|_)(ip|ip_?addr(ess)?|remote_?addr|user_?agent|ua|x_?forwarded)($|_)"


def classification_for(model: type) -> dict[str, FieldClass]:
    label = model._meta.label_lower
    declared = getattr(model, "DATA_CLASSIFICATION", None)
    if declared is not None and model.__module__.startswith("defensa."):
        return dict(declared)
    return THIRD_PARTY.get(label, {})
