"""The verifier's finding from the one-tap page (a note, photos and a short video), and a
committee's dispatch policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from defensa.dispatch.models import Reach
from defensa.reports.forms import MediaUploadsMixin, MultipleFileInput, PhotosField


class FindingForm(MediaUploadsMixin, forms.Form):
    """Photos go through the report form's pipeline (re-encoded from pixels), video through
    ffmpeg (defensa/evidence/video.py). Call `discard_media()` after handling it, always."""

    note = forms.CharField(
        label=_("What you saw (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos = PhotosField(
        label=_("Photos (optional)"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )
    video = forms.FileField(
        label=_("A short video (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "video/*"}),
    )

    def max_photos(self) -> int:
        # A verifier documents more than a passer-by: twice the public form's number.
        return max(settings.REPORT_MAX_PHOTOS, 1) * 2


# The most a committee asks at once: more than this is an alert, not a verification.
MAX_OFFER_SIZE = 50
MAX_ESCALATE_MINUTES = 24 * 60


class PolicyForm(forms.Form):
    """A committee's dispatch policy. Every number is at least one: a policy that asks no
    verifier, wants no acceptance or widens at once would leave reports unverified."""

    offer_size = forms.IntegerField(
        label=_("Verifiers offered at first"),
        help_text=_("How many of the nearest on-duty verifiers each request asks."),
        min_value=1,
        max_value=MAX_OFFER_SIZE,
        error_messages={"min_value": _("Offer it to at least one verifier.")},
    )
    accept_target = forms.IntegerField(
        label=_("Acceptances that are enough"),
        help_text=_("With fewer acceptances than this, the request widens."),
        min_value=1,
        max_value=MAX_OFFER_SIZE,
        error_messages={"min_value": _("At least one verifier must accept.")},
    )
    escalate_minutes = forms.IntegerField(
        label=_("Minutes before widening"),
        help_text=_("How long a request waits for acceptances before asking more people."),
        min_value=1,
        max_value=MAX_ESCALATE_MINUTES,
        error_messages={"min_value": _("Wait at least one minute before widening.")},
    )
    reach = forms.ChoiceField(
        label=_("How far widening goes"),
        choices=Reach.choices,
        widget=forms.RadioSelect,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        size, target = data.get("offer_size"), data.get("accept_target")
        if size is not None and target is not None and target > size:
            self.add_error(
                "accept_target",
                _("Offer it to at least as many verifiers as the acceptances you want."),
            )
        return data
