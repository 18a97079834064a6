"""The incident archive: every incident of a committee and the committees under it, closed,
false alarms, merged and all others, filtered, 50 a page, and as CSV.

Rows carry what a dispatcher, coordinator or legal team member needs to find an incident again
(reference, category, state, when, how many reports, which committee, the ZIP areas the
reports named). Never reporter text or contact: those stay on the printable record, whose
every opening is audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from defensa.committees.access import committee_and_below
from defensa.committees.models import Committee
from defensa.incidents.models import Category, Incident, State
from defensa.reports.models import Report

PAGE_SIZE = 50
MERGED = "merged"


class ArchiveFilter(forms.Form):
    """The archive's filters; every field optional, every value checked."""

    q = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=8,
        help_text=_("An incident's or a report's reference code."),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput({"type": "date"})
    )
    committee = forms.TypedChoiceField(
        label=_("Committee"), required=False, coerce=int, empty_value=None
    )
    category = forms.ChoiceField(label=_("What"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    zip_code = forms.RegexField(
        label=_("ZIP code"),
        required=False,
        regex=r"^\d{5}$",
        widget=forms.TextInput({"inputmode": "numeric", "maxlength": "5", "autocomplete": "off"}),
        error_messages={"invalid": _("A ZIP code is five digits.")},
    )

    def __init__(self, data: Any, *, committee: Committee) -> None:
        super().__init__(data)
        self.scope = committee_and_below(committee)
        names = dict(Committee.objects.filter(pk__in=self.scope).values_list("pk", "name"))
        self.fields["committee"].choices = [("", _("This committee and those under it"))] + [
            (pk, names[pk]) for pk in self.scope
        ]
        self.fields["category"].choices = [("", _("Any"))] + list(Category.choices)
        self.fields["state"].choices = [("", _("Any")), *State.choices, (MERGED, _("Merged"))]

    def clean_q(self) -> str:
        value = self.cleaned_data["q"].strip().upper()
        if value and not value.isalnum():
            raise forms.ValidationError(
                _("A reference has letters and digits only."), code="invalid"
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date is after the end date."), code="order")
        return data

    def audit_fields(self) -> dict[str, Any]:
        """The filter as the audit chain may hold it: ids, codes and ISO dates only."""
        data = self.cleaned_data
        return {
            "q": data.get("q") or None,
            "since": data["since"].isoformat() if data.get("since") else None,
            "until": data["until"].isoformat() if data.get("until") else None,
            "filter_committee": data.get("committee"),
            "category": data.get("category") or None,
            "state": data.get("state") or None,
            "zip_code": data.get("zip_code") or None,
        }


def archive_incidents(committee: Committee, form: ArchiveFilter) -> QuerySet[Incident]:
    """The committee's and its sub-committees' incidents matching a valid filter, newest first."""
    data = form.cleaned_data
    chosen = data.get("committee")
    scope = committee_and_below(Committee.objects.get(pk=chosen)) if chosen else form.scope
    found = Incident.objects.filter(committee_id__in=scope)
    tz = committee.tz
    if data.get("since"):
        start = dt.datetime.combine(data["since"], dt.time.min, tzinfo=tz)
        found = found.filter(last_observed_at__gte=start)
    if data.get("until"):
        end = dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        found = found.filter(first_observed_at__lt=end)
    if data.get("category"):
        found = found.filter(category=data["category"])
    state = data.get("state")
    if state == MERGED:
        found = found.filter(merged_into__isnull=False)
    elif state:
        found = found.filter(state=state, merged_into__isnull=True)
    if data.get("zip_code"):
        found = found.filter(
            pk__in=Report.objects.filter(zip_code=data["zip_code"]).values("incident_id")
        )
    if data.get("q"):
        found = found.filter(reference=data["q"]) | found.filter(
            pk__in=Report.objects.filter(reference=data["q"]).values("incident_id")
        )
    return found.select_related("committee").order_by("-last_observed_at", "-id")


def zip_areas(incidents: Iterable[Incident]) -> dict[int, list[str]]:
    """The ZIP codes each incident's reports named, by incident id (one query)."""
    ids = [i.pk for i in incidents]
    areas: dict[int, set[str]] = defaultdict(set)
    rows = Report.objects.filter(incident_id__in=ids).exclude(zip_code="")
    for incident_id, code in rows.values_list("incident_id", "zip_code").distinct():
        areas[incident_id].add(code)
    return {pk: sorted(codes) for pk, codes in areas.items()}


def state_label(incident: Incident) -> str:
    if incident.merged_into_id is not None:
        return str(_("Merged"))
    return incident.get_state_display()  # type: ignore[attr-defined]


CSV_HEADER = (
    "reference",
    "category",
    "state",
    "first_observed",
    "last_observed",
    "reports",
    "committee",
    "zip_area",
)


def csv_rows(incidents: QuerySet[Incident], *, chunk: int = 500) -> Iterator[str]:
    """The CSV, one line at a time: machine values (category and state codes, UTC ISO times)
    so a spreadsheet sorts and filters them. No reporter text or contact."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield flush()
    batch: list[Incident] = []
    for incident in incidents.iterator(chunk_size=chunk):
        batch.append(incident)
        if len(batch) == chunk:
            yield from _lines(batch, writer, flush)
            batch = []
    if batch:
        yield from _lines(batch, writer, flush)


def _lines(batch: list[Incident], writer: Any, flush: Any) -> Iterator[str]:
    areas = zip_areas(batch)
    for incident in batch:
        state = MERGED if incident.merged_into_id is not None else incident.state
        writer.writerow(
            (
                incident.reference,
                incident.category,
                state,
                incident.first_observed_at.astimezone(dt.UTC).isoformat(),
                incident.last_observed_at.astimezone(dt.UTC).isoformat(),
                incident.report_count,
                incident.committee.slug if incident.committee else "",
                " ".join(areas.get(incident.pk, [])),
            )
        )
        yield flush()
