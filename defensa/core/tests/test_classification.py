"""Security property 1: every field of every installed model is classified.

The walk covers Django's and our dependencies' models too: a column nobody thought about is
exactly the one that ends up in a seized backup.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.apps.registry import Apps
from django.db import models

from defensa.core.classification import (
    ACCOUNT,
    AUDIT,
    COMMITTEE,
    FORBIDDEN_COLUMN_PATTERN,
    SYSTEM,
    FieldClass,
    Level,
    classification_for,
)

NAMED_RETENTIONS = {ACCOUNT, COMMITTEE, AUDIT, SYSTEM}
FORBIDDEN = re.compile(FORBIDDEN_COLUMN_PATTERN, re.IGNORECASE)


def stored_fields(model: type[models.Model]) -> list[models.Field]:
    """Fields that put data in this model's table or its own m2m table (no reverse relations)."""
    return [
        field
        for field in model._meta.get_fields()
        # Reverse relations (auto_created and not concrete) live on the other model.
        if not (field.auto_created and not field.concrete)
    ]


def all_models() -> list[type[models.Model]]:
    return list(apps.get_models())


def unclassified_fields(model_list: list[type[models.Model]]) -> list[str]:
    missing: list[str] = []
    for model in model_list:
        declared = classification_for(model)
        for field in stored_fields(model):
            if field.name not in declared:
                missing.append(f"{model._meta.label_lower}.{field.name}")
    return missing


def forbidden_columns(model_list: list[type[models.Model]]) -> list[str]:
    hits: list[str] = []
    for model in model_list:
        for field in stored_fields(model):
            names = {field.name, getattr(field, "column", None) or field.name}
            if any(FORBIDDEN.search(name) for name in names):
                hits.append(f"{model._meta.label_lower}.{field.name}")
            if isinstance(field, models.GenericIPAddressField | models.IPAddressField):
                hits.append(f"{model._meta.label_lower}.{field.name} (IP address field)")
    return hits


def test_the_walk_sees_django_dependency_and_our_models() -> None:
    labels = {m._meta.label_lower for m in all_models()}
    # If the walk silently shrank (an app renamed, get_models() filtered), the other tests
    # would pass for the wrong reason.
    assert {
        "sessions.session",
        "auth.permission",
        "django_tasks_database.dbtaskresult",
        "accounts.user",
        "committees.membership",
        "audit.auditentry",
    } <= labels


def test_every_field_of_every_model_is_classified() -> None:
    missing = unclassified_fields(all_models())
    assert missing == [], "unclassified fields (add them to DATA_CLASSIFICATION): " + ", ".join(
        missing
    )


def test_no_model_stores_an_ip_address_or_user_agent() -> None:
    hits = forbidden_columns(all_models())
    assert hits == [], "request metadata columns are forbidden: " + ", ".join(hits)


def test_every_classification_has_a_level_and_a_retention() -> None:
    problems: list[str] = []
    for model in all_models():
        field_names = {f.name for f in stored_fields(model)}
        for name, fc in classification_for(model).items():
            where = f"{model._meta.label_lower}.{name}"
            if not isinstance(fc, FieldClass):
                problems.append(f"{where}: not a FieldClass")
                continue
            if not isinstance(fc.level, Level):
                problems.append(f"{where}: level {fc.level!r}")
            retention_ok = fc.retention in NAMED_RETENTIONS or (
                isinstance(fc.retention, timedelta) and fc.retention > timedelta(0)
            )
            if not retention_ok:
                problems.append(f"{where}: retention {fc.retention!r}")
            if not all(isinstance(r, str) and r for r in fc.readers):
                problems.append(f"{where}: readers {fc.readers!r}")
            # A stale entry for a removed field hides that the registry drifted.
            if name not in field_names:
                problems.append(f"{where}: classified but no such field")
    assert problems == [], "; ".join(problems)


# The checks themselves must be able to fail: run them on throwaway models kept in their own
# registry, so they never appear in the real walk above.
_scratch = Apps(installed_apps=[])


class _Tag(models.Model):
    class Meta:
        app_label = "core"
        apps = _scratch


class _Leaky(models.Model):
    remote_addr = models.CharField(max_length=45)
    user_agent = models.TextField()
    seen_from = models.GenericIPAddressField()
    tags = models.ManyToManyField(_Tag)
    harmless = models.CharField(max_length=5)

    class Meta:
        app_label = "core"
        apps = _scratch


def test_checks_catch_unclassified_and_forbidden_fields() -> None:
    # classification_for() only honours DATA_CLASSIFICATION on defensa.* modules, as here.
    _Leaky.DATA_CLASSIFICATION = {"id": object(), "harmless": object()}  # type: ignore[attr-defined]
    assert unclassified_fields([_Leaky]) == [
        "core._leaky.remote_addr",
        "core._leaky.user_agent",
        "core._leaky.seen_from",
        "core._leaky.tags",
    ]
    assert forbidden_columns([_Leaky]) == [
        "core._leaky.remote_addr",
        "core._leaky.user_agent",
        "core._leaky.seen_from (IP address field)",
    ]


@pytest.mark.parametrize(
    "name",
    ["ip", "client_ip", "ip_address", "ipaddr", "remote_addr", "user_agent", "useragent", "ua"],
)
def test_forbidden_pattern_matches_metadata_names(name: str) -> None:
    assert FORBIDDEN.search(name)


@pytest.mark.parametrize("name", ["zip_codes", "description", "shipping", "equipment", "quality"])
def test_forbidden_pattern_spares_ordinary_names(name: str) -> None:
    assert not FORBIDDEN.search(name)
