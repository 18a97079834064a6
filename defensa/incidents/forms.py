"""Forms for merging and splitting incidents by hand (no JavaScript needed)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from defensa.core import geo
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


class PlaceForm(forms.Form):
    """Where an incident no report could place is: a ZIP code, or a neighbourhood cell."""

    zip_code = forms.CharField(label=_("ZIP code"), max_length=5, required=False)
    cell = forms.CharField(
        label=_("or a neighbourhood cell (h3)"),
        max_length=16,
        required=False,
        help_text=_("As shown on the committee's area page."),
    )
    note = forms.CharField(
        label=_("Why (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        zip_code = (data.get("zip_code") or "").strip()
        cell = (data.get("cell") or "").strip().lower()
        if bool(zip_code) == bool(cell):
            raise forms.ValidationError(_("Give a ZIP code or a cell, one of the two."))
        if zip_code:
            centre = geo.zip_centroid(zip_code) if geo.is_zip_format(zip_code) else None
            if centre is None:
                self.add_error("zip_code", _("That is not a US ZIP code we know."))
                return data
            data["point"] = (*centre, float(settings.ZIP_PRECISION_M))
        else:
            if not geo.is_area_cell(cell):
                self.add_error("cell", _("That is not a neighbourhood cell."))
                return data
            lat, lon = geo.cell_center(cell)
            # About the cell's own size: a dispatcher's cell is as coarse as a ZIP.
            data["point"] = (lat, lon, float(settings.ZIP_PRECISION_M))
        data["zip_code"], data["cell"] = zip_code, cell
        return data


class LookupForm(forms.Form):
    """An address or cross streets to ask the operator's own geocoder about."""

    text = forms.CharField(
        label=_("Address or cross streets"),
        max_length=200,
        help_text=_("Asked of this network's own geocoder; the answer is a neighbourhood."),
    )

    def clean_text(self) -> str:
        text = " ".join(self.cleaned_data["text"].split())
        if not text:
            raise forms.ValidationError(_("Type an address or cross streets."), code="required")
        return text
