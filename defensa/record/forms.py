"""The coordinator's switch for the public page of verified incidents."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PublicPageForm(forms.Form):
    show = forms.ChoiceField(
        choices=[("on", _("On")), ("off", _("Off"))],
        error_messages={
            "required": _("Choose on or off."),
            "invalid_choice": _("Choose on or off."),
        },
    )
