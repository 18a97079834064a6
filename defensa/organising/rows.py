"""Workplace contacts as a kind of import: one spreadsheet row -> one contact of a workplace.

Columns: name (or nickname), phone, language, department, shift. A row needs a name and a
phone: the phone is what tells a contact already recorded from a new one, so importing the
same file again changes nothing (contacts without a phone are added one by one). Phones are
kept as the workplace page keeps them; a department or shift must be one of the workplace's
when the workplace lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from defensa.imports.kinds import Column, Kind, RowInvalid
from defensa.imports.languages import language_names
from defensa.imports.models import ImportJob
from defensa.organising import actions
from defensa.organising.models import Worker, Workplace

KIND = "contacts"
MAX_NAME = 80


def _words(*values: str) -> tuple[str, ...]:
    return tuple(v.lower() for v in values)


COLUMNS = (
    Column(
        "name",
        gettext_lazy("Name or nickname"),
        _words("name", "nickname", "nombre", "apodo", "full name", "nombre completo"),
    ),
    Column(
        "phone",
        gettext_lazy("Phone"),
        _words("teléfono", "telefono", "mobile", "cell", "celular", "móvil"),
    ),
    Column("language", gettext_lazy("Language"), _words("idioma", "lang", "lengua")),
    Column("department", gettext_lazy("Department"), _words("departamento", "dept", "área")),
    Column("shift", gettext_lazy("Shift"), _words("turno")),
)


def _unit(listed: Sequence[str], value: str) -> str | None:
    """The workplace's own spelling of a department or shift; None when it lists others."""
    if not value or not listed:
        return value
    return next((name for name in listed if name.lower() == value.lower()), None)


class ContactRows(Kind):
    name = KIND
    columns = COLUMNS

    def check_mapping(self, keys: set[str]) -> str | None:
        if "name" not in keys:
            return _("Choose the column that holds names or nicknames.")
        if "phone" not in keys:
            return _("Choose the column that holds phones.")
        return None

    def __init__(self) -> None:
        # Looked up once per job, not once per row; (id, created_at) names one job for good.
        self._cached: tuple[tuple[int, Any], Workplace | None] = ((0, None), None)

    def _workplace(self, job: ImportJob) -> Workplace:
        """The job's workplace; RowInvalid once its campaign has ended (or it is gone)."""
        if self._cached[0] != (job.pk, job.created_at) or self._cached[1] is None:
            found = Workplace.objects.filter(pk=job.scope_id).first()
            self._cached = ((job.pk, job.created_at), found)
        found = self._cached[1]
        if found is None or not found.is_active:
            raise RowInvalid(_("The campaign at this workplace has ended."))
        return found

    def validate_row(self, job: ImportJob, values: dict[str, str]) -> dict[str, Any]:
        name = " ".join(values.get("name", "").split())
        if not name:
            raise RowInvalid(_("The name is missing."))
        if len(name) > MAX_NAME:
            raise RowInvalid(_("The name is longer than %(n)s characters.") % {"n": MAX_NAME})
        if not values.get("phone"):
            raise RowInvalid(_("The phone is missing: add contacts without a phone one by one."))
        try:
            phone = actions.canonical_phone(values["phone"])
        except actions.OrganisingError:
            raise RowInvalid(_("The phone is not a number we can text.")) from None
        language = settings.LANGUAGE_CODE
        if values.get("language"):
            language = language_names().get(values["language"].lower(), "")
            if not language:
                raise RowInvalid(_("The language is not one the site speaks (English or Spanish)."))
        workplace = self._workplace(job)
        department = _unit(workplace.departments, values.get("department", ""))
        if department is None:
            raise RowInvalid(_("The department is not one of the workplace's departments."))
        shift = _unit(workplace.shifts, values.get("shift", ""))
        if shift is None:
            raise RowInvalid(_("The shift is not one of the workplace's shifts."))
        return {
            "name": name,
            "phone": phone,
            "language": language,
            "department": department[:80],
            "shift": shift[:80],
        }

    def identities(self, cleaned: dict[str, Any]) -> list[str]:
        return [f"phone:{cleaned['phone']}"]

    def match_existing(self, job: ImportJob, rows: Sequence[dict[str, Any]]) -> list[bool]:
        if not rows:
            return []
        digests = [actions.phone_digest(r["phone"]) for r in rows]
        there = set(
            Worker.objects.filter(workplace_id=job.scope_id, phone_digest__in=digests).values_list(
                "phone_digest", flat=True
            )
        )
        return [d in there for d in digests]

    def apply_row(self, job: ImportJob, cleaned: dict[str, Any]) -> None:
        actions.write_contact(
            self._workplace(job), actions.ContactData(**cleaned), actor=job.created_by
        )
