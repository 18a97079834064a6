"""The public report form: parse and validate only; receive_report() does the rest."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core import geo, imaging
from defensa.evidence.photos import MAX_UPLOAD_BYTES, BadPhoto, CleanPhoto, clean_photo
from defensa.evidence.video import BadVideo, CleanVideo, clean_video
from defensa.incidents.models import Category

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(24)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(PhotosField, self).clean(f, initial) for f in files if f]


class MediaUploadsMixin:
    """Cleaning of a form's `photos` (PhotosField) and `video` (FileField) fields, for the
    public report form and the verifier's finding form alike: photos are re-encoded from
    pixels (evidence/photos.py), a video goes through ffmpeg (evidence/video.py). The results
    are in `clean_photos_list` and `clean_videos_list`; call `discard_media()` after handling
    the form, always, to remove a cleaned video nothing took (a bad form, a retry)."""

    cleaned_data: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clean_photos_list: list[CleanPhoto] = []
        self.clean_videos_list: list[CleanVideo] = []

    def max_photos(self) -> int:
        return settings.REPORT_MAX_PHOTOS

    def discard_media(self) -> None:
        for video in self.clean_videos_list:
            video.discard()

    def clean_photos(self) -> list:
        files = self.cleaned_data.get("photos") or []
        limit = self.max_photos()
        if len(files) > limit:
            raise forms.ValidationError(_("Send at most %(n)s photos.") % {"n": limit})
        cleaned = []
        for upload in files:
            try:
                cleaned.append(
                    clean_photo(
                        upload,
                        too_big=str(
                            _(
                                "A photo is too large (more than %(mp)s megapixels). Send a "
                                "smaller one, or a screenshot of it."
                            )
                            % {"mp": settings.PHOTO_MAX_MEGAPIXELS}
                        ),
                        not_image=str(_("A file is not a photo we can read.")),
                        too_heavy=str(
                            _(
                                "A photo is too large (more than %(mb)s MB). Send a smaller "
                                "one, or a screenshot of it."
                            )
                            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
                        ),
                    )
                )
            except BadPhoto as exc:
                raise forms.ValidationError(str(exc)) from exc
            except imaging.Busy as exc:
                raise forms.ValidationError(
                    _(
                        "Too many photos are being processed right now. Send again in a "
                        "minute, or send your report without photos."
                    )
                ) from exc
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


class ReportForm(MediaUploadsMixin, forms.Form):
    category = forms.ChoiceField(
        label=_("What is happening?"),
        choices=Category.choices,
        widget=forms.RadioSelect,
    )
    location_text = forms.CharField(
        label=_("Where? Address, cross streets or a place nearby"),
        max_length=200,
        required=False,
    )
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=5,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    observed_at = forms.DateTimeField(
        label=_("When did you see it?"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    agents = forms.IntegerField(
        label=_("How many agents?"), required=False, min_value=0, max_value=9999
    )
    vehicles = forms.IntegerField(
        label=_("How many vehicles?"), required=False, min_value=0, max_value=9999
    )
    agency = forms.CharField(
        label=_("Which agency, if you can tell (what their vests or cars say)"),
        max_length=60,
        required=False,
    )
    description = forms.CharField(
        label=_("What did you see?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact = forms.CharField(
        label=_("A phone number or email to call you back"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    photos = PhotosField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )
    video = forms.FileField(
        label=_("A short video"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "video/*"}),
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # Filled only by the optional "use my location" button (reports/static/reports/locate.js)
    # or, when a tile server is configured, by the map pin (reports/static/reports/pin.js).
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    accuracy = forms.FloatField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=100_000
    )
    # How the position above was found: the phone's own fix ("gps") or a pin the person
    # placed on the map ("pin", its accuracy is what one finger covers at that zoom).
    located_by = forms.ChoiceField(
        widget=forms.HiddenInput,
        required=False,
        choices=[("", ""), ("gps", "gps"), ("pin", "pin")],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.video_seconds, self.video_mb = settings.VIDEO_MAX_SECONDS, settings.VIDEO_MAX_MB

    # The fields the public form folds under "Add more if you can" (reports/new.html).
    MORE_FIELDS = ("agents", "vehicles", "agency", "photos", "video", "contact")

    def more_open(self) -> bool:
        """Unfold the optional part when the person filled or got an error in any of it."""
        if not self.is_bound:
            return False
        return any(
            name in self.errors or (self.data.get(name) or "").strip()
            for name in self.MORE_FIELDS
            if name in self.fields
        )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not TOKEN_RE.match(token):
            raise forms.ValidationError(_("This form has expired. Please send it again."))
        return token

    def clean_zip_code(self) -> str:
        value = self.cleaned_data.get("zip_code", "").strip()
        if value and not geo.is_zip_format(value):
            raise forms.ValidationError(_("A ZIP code has five digits."))
        return value

    def clean_observed_at(self) -> dt.datetime:
        value = self.cleaned_data.get("observed_at") or timezone.now()
        now = timezone.now()
        if value > now + dt.timedelta(minutes=10):
            raise forms.ValidationError(_("That time is in the future."))
        if value < now - dt.timedelta(days=7):
            raise forms.ValidationError(_("Please report only what happened in the last week."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        located = data.get("lat") is not None and data.get("lon") is not None
        if (data.get("lat") is None) != (data.get("lon") is None):
            data["lat"] = data["lon"] = None  # half a position is no position
            located = False
        if not located and not data.get("location_text") and not data.get("zip_code"):
            raise forms.ValidationError(
                _("Tell us where: an address, cross streets or a ZIP code."),
                code="where",
            )
        return data

    def report_data(self, language: str) -> dict[str, Any]:
        d = self.cleaned_data
        text = d.get("location_text", "")
        located = d.get("lat") is not None and d.get("lon") is not None
        if located:
            kind = "pin" if d.get("located_by") == "pin" else "gps"
        elif text and not d.get("zip_code"):
            kind = "cross_streets"
        else:
            kind = ""
        return {
            "category": d["category"],
            # The phone's own fix when the person tapped "use my location". Cross streets are
            # not turned into coordinates (no geocoder request leaves the server); a ZIP code
            # places the report at its centre until a dispatcher refines it.
            "lat": d.get("lat") if located else None,
            "lon": d.get("lon") if located else None,
            "precision_m": d.get("accuracy") if located else None,
            "location_kind": kind,
            "location_text": text,
            "zip_code": d.get("zip_code", ""),
            "observed_at": d["observed_at"],
            "agents": d.get("agents"),
            "vehicles": d.get("vehicles"),
            "agency": d.get("agency", ""),
            "description": d.get("description", ""),
            "language": language,
            "contact": d.get("contact", "").strip(),
        }


class OperatorForm(ReportForm):
    """What a hotline operator types during a call: the public form, built for the keyboard.

    One column, the caller's words first, defaults for what callers rarely know exactly (the
    time: now; the category: agents seen). No photos or phone location: a call carries none.
    """

    category = forms.ChoiceField(
        label=_("What is happening?"),
        choices=Category.choices,
        initial=Category.SIGHTING,
        # A select, not radio buttons: one Tab stop, and a typed letter picks the category.
        widget=forms.Select(attrs={"autofocus": True}),
    )
    language = forms.ChoiceField(label=_("The caller speaks"), choices=settings.LANGUAGES)
    contact = forms.CharField(
        label=_("Caller's number, only if they want a call back"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    photos = None  # type: ignore[assignment]
    video = None  # type: ignore[assignment]
    lat = None  # type: ignore[assignment]
    lon = None  # type: ignore[assignment]
    accuracy = None  # type: ignore[assignment]
    located_by = None  # type: ignore[assignment]

    field_order = [
        "category",
        "location_text",
        "zip_code",
        "observed_at",
        "agents",
        "vehicles",
        "agency",
        "language",
        "description",
        "contact",
        "token",
    ]
