"""The audit-log viewer for network administrators: entries as stored, ids and action names
only (never the entry's data), filtered by action prefix, dates and actor, 50 a page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.audit.models import AuditEntry
from defensa.core.access import active_user

_ACTION = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def audit_entries_for(user: Any) -> QuerySet[AuditEntry]:
    """Every audit entry, newest first, for network administrators; Http404 for anyone else."""
    person = active_user(user)
    if person is None or not person.is_network_admin:
        raise Http404
    return AuditEntry.objects.order_by("-seq")


class AuditFilter(forms.Form):
    action = forms.CharField(
        label=_("Action starts with"),
        required=False,
        max_length=64,
        help_text=_("For example reports. or member.roles_changed"),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput({"type": "date"})
    )
    actor = forms.IntegerField(label=_("Actor id"), required=False, min_value=1, max_value=2**62)

    def clean_action(self) -> str:
        value = self.cleaned_data["action"].strip()
        if value and not _ACTION.match(value):
            raise forms.ValidationError(
                _("Letters, digits, dots, colons, dashes and underscores only."), code="invalid"
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start date is after the end date."), code="order")
        return data

    def apply(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        data = self.cleaned_data
        tz = timezone.get_current_timezone()
        if data.get("action"):
            entries = entries.filter(action__startswith=data["action"])
        if data.get("since"):
            start = dt.datetime.combine(data["since"], dt.time.min, tzinfo=tz)
            entries = entries.filter(created_at__gte=start)
        if data.get("until"):
            end = dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
            entries = entries.filter(created_at__lt=end)
        if data.get("actor"):
            entries = entries.filter(actor_id=data["actor"])
        return entries
