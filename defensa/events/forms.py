"""Forms of events: every field validates strictly, errors in plain words.

Times are typed in the committee's time zone. A time the clocks skip (2:30 on the night
summer time starts) is refused; a time that happens twice (1:30 on the night it ends) is the
first of the two. An end time earlier than the start means the next day.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from defensa.cases.models import Facility
from defensa.committees.forms import normalize_phone
from defensa.committees.models import Committee
from defensa.events.actions import EventData
from defensa.events.models import CODE_LENGTH, Event, Kind, Role, Visibility

MAX_CAPACITY = 1_000_000


def no_controls(value: str, *, keep_lines: bool = False) -> str:
    if any(
        (ord(ch) < 0x20 and not (keep_lines and ch in "\r\n")) or ord(ch) == 0x7F for ch in value
    ):
        raise ValidationError(_("Remove the special characters."), code="control")
    return value.strip()


def local_moment(day: dt.date, time: dt.time, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The moment a clock in `tz` shows `day` `time`; ValidationError if it never shows it."""
    moment = dt.datetime.combine(day, time, tzinfo=tz)  # fold=0: the first of a repeated hour
    back = moment.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise ValidationError(
            _("The clocks change that night and skip this time. Choose another time."),
            code="gap",
        )
    return moment


def span(
    day: dt.date, start: dt.time, end: dt.time, tz: zoneinfo.ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    starts = local_moment(day, start, tz)
    end_day = day if end > start else day + dt.timedelta(days=1)
    return starts, local_moment(end_day, end, tz)


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=_("What kind of event"), choices=Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("What people should know"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(
        label=_("Ends at"),
        help_text=_("Earlier than the start means the next day."),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    area = forms.CharField(
        label=_("General area"),
        max_length=120,
        help_text=_("Shown to everyone who sees the event, e.g. “near Mariachi Plaza”."),
    )
    place = forms.CharField(
        label=_("Exact place"),
        max_length=200,
        help_text=_("Shown only to people with a confirmed place, and in their reminders."),
    )
    capacity = forms.IntegerField(
        label=_("Places"),
        required=False,
        min_value=1,
        max_value=MAX_CAPACITY,
        help_text=_("Leave empty for no limit. When full, people join a waiting list."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages spoken at the event"),
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )
    visibility = forms.ChoiceField(
        label=_("Who can come"),
        choices=Visibility.choices,
        widget=forms.RadioSelect,
        initial=Visibility.MEMBERS,
    )

    def __init__(self, *args: Any, committee: Committee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committee = committee
        self.fields["languages"].choices = list(settings.LANGUAGES)

    def clean_title(self) -> str:
        return no_controls(self.cleaned_data["title"])

    def clean_description(self) -> str:
        return no_controls(self.cleaned_data["description"], keep_lines=True)

    def clean_area(self) -> str:
        return no_controls(self.cleaned_data["area"])

    def clean_place(self) -> str:
        return no_controls(self.cleaned_data["place"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, start, end = data.get("day"), data.get("start"), data.get("end")
        if day and start and end:
            try:
                data["starts_at"], data["ends_at"] = span(day, start, end, self.committee.tz)
            except ValidationError as error:
                self.add_error("start", error)
        return data

    def event_data(self) -> EventData:
        d = self.cleaned_data
        return EventData(
            kind=d["kind"],
            title=d["title"],
            description=d["description"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            area=d["area"],
            place=d["place"],
            capacity=d.get("capacity"),
            languages=list(d["languages"]),
            visibility=d["visibility"],
        )


class ShiftForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    start = forms.TimeField(label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(
        label=_("Ends at"),
        help_text=_("Earlier than the start means the next day."),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=MAX_CAPACITY)

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            try:
                data["starts_at"], data["ends_at"] = span(
                    self.event.local_start.date(), start, end, self.event.committee.tz
                )
            except ValidationError as error:
                self.add_error("start", error)
        return data


class PhoneRsvpForm(forms.Form):
    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=24,
        help_text=_(
            "For reminders and the exact place. Sealed: organisers see only its last digits."
        ),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


class CheckinForm(forms.Form):
    code = forms.CharField(
        label=_("Check-in code"),
        max_length=CODE_LENGTH + 4,
        help_text=_("The marshals show it at the event."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def clean_code(self) -> str:
        return no_controls(self.cleaned_data["code"]).upper()


class ArrestForm(forms.Form):
    person_name = forms.CharField(
        label=_("Name of the person arrested, if known"),
        max_length=200,
        required=False,
        help_text=_("Sealed: only the legal team can read it."),
    )
    facility = forms.ModelChoiceField(
        label=_("Where they were taken, if known"),
        queryset=Facility.objects.order_by("name"),
        required=False,
        empty_label=_("Not known"),
    )
    note = forms.CharField(
        label=_("What you saw"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Time, agency, badge numbers, vehicle, witnesses. No guesses."),
    )

    def clean_person_name(self) -> str:
        return no_controls(self.cleaned_data["person_name"])

    def clean_note(self) -> str:
        return no_controls(self.cleaned_data["note"], keep_lines=True)
