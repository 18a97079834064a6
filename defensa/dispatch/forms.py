"""The verifier's finding from the one-tap page: a note, photos and a short video."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from defensa.evidence.video import BadVideo, CleanVideo, clean_video
from defensa.reports.forms import MultipleFileInput, PhotosField
from defensa.reports.photos import BadPhoto, CleanPhoto, clean_photo


class FindingForm(forms.Form):
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clean_photos_list: list[CleanPhoto] = []
        self.clean_videos_list: list[CleanVideo] = []

    def discard_media(self) -> None:
        for video in self.clean_videos_list:
            video.discard()

    def clean_photos(self) -> list:
        files = self.cleaned_data.get("photos") or []
        # A verifier documents more than a passer-by: twice the public form's number.
        limit = max(settings.REPORT_MAX_PHOTOS, 1) * 2
        if len(files) > limit:
            raise forms.ValidationError(_("Send at most %(n)s photos.") % {"n": limit})
        cleaned = []
        for upload in files:
            try:
                cleaned.append(
                    clean_photo(
                        upload,
                        too_big=str(_("A photo is too large.")),
                        not_image=str(_("A file is not a photo we can read.")),
                    )
                )
            except BadPhoto as exc:
                raise forms.ValidationError(str(exc)) from exc
        self.clean_photos_list = cleaned
        return files

    def clean_video(self) -> Any:
        upload = self.cleaned_data.get("video")
        if upload:
            try:
                self.clean_videos_list = [clean_video(upload)]
            except BadVideo as exc:
                raise forms.ValidationError(str(exc)) from exc
        return upload
