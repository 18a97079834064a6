from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from defensa.notify.models import Channel
from defensa.people.actions import EXPORT_COLUMNS, SMS_ONLY

COLUMN_LABELS = {
    "name": _("Name"),
    "email": _("Email"),
    "phone": _("Phone"),
    "language": _("Language"),
    "zip": _("ZIP code"),
    "status": _("Status"),
    "roles": _("Roles"),
    "skills": _("Skills"),
    "joined": _("Joined"),
}


class InviteForm(forms.Form):
    WHO = (
        ("new", _("Everyone not invited yet")),
        ("waiting", _("Everyone invited who has not joined yet (send again)")),
    )
    channel = forms.ChoiceField(
        label=_("Send by"),
        choices=(
            (Channel.SMS, _("Text message (SMS)")),
            (Channel.EMAIL, _("Email")),
            (
                SMS_ONLY,
                _(
                    "SMS-only membership: a text with a code to text back, for people "
                    "without a smartphone (no web sign-in)"
                ),
            ),
        ),
        widget=forms.RadioSelect,
    )
    who = forms.ChoiceField(label=_("To whom"), choices=WHO, widget=forms.RadioSelect)


class ExportForm(forms.Form):
    columns = forms.MultipleChoiceField(
        label=_("Columns"),
        choices=[(c, COLUMN_LABELS[c]) for c in EXPORT_COLUMNS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one column.")},
    )
    full_phones = forms.BooleanField(
        label=_("Full phone numbers"),
        required=False,
        help_text=_(
            "Without this, phones are masked (•••-•••-••99). Full numbers need a second "
            "coordinator's approval."
        ),
    )
