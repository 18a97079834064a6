"""The verifier's finding from the one-tap page: a note, photos and a short video."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

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
