"""Forms for merging and splitting incidents by hand (no JavaScript needed)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from defensa.incidents.models import Incident


class MergeForm(forms.Form):
    other = forms.ModelChoiceField(
        label=_("Merge this incident into the one on this page"),
        queryset=Incident.objects.none(),
        to_field_name="reference",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Why (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, candidates: QuerySet[Incident], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = candidates  # type: ignore[attr-defined]
        self.fields["other"].label_from_instance = _incident_label  # type: ignore[attr-defined]


def _incident_label(incident: Incident) -> str:
    return _("%(ref)s: %(what)s, %(count)s reports, last at %(when)s") % {
        "ref": incident.reference,
        "what": incident.get_category_display(),  # type: ignore[attr-defined]
        "count": incident.report_count,
        "when": f"{incident.last_observed_at:%Y-%m-%d %H:%M} UTC",
    }


class SplitForm(forms.Form):
    reports = forms.MultipleChoiceField(
        label=_("Reports to move into a new incident"), widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label=_("Why (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rows = incident.reports.order_by("observed_at", "pk")  # type: ignore[attr-defined]
        self.fields["reports"].choices = [  # type: ignore[attr-defined]
            (str(r.pk), _report_label(r)) for r in rows
        ]

    def report_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["reports"]]


def _report_label(report: Any) -> str:
    where = report.location_text or report.zip_code or _("no place given")
    said = report.description[:80]
    return f"{report.reference} · {report.observed_at:%H:%M} UTC · {where} · {said}"
