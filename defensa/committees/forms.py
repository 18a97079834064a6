"""Forms for joining, inviting, members and members' own settings.

Every field validates strictly and says what is wrong in plain words next to the field.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Collection
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import TRUSTED_SKILLS, Language, SkillKind, User
from defensa.committees.actions import SkillEntry
from defensa.committees.models import Committee, Founding, Kind, Weekday
from defensa.core import geo

# Dates a person could mean: trainings from the last decades, expiries not absurdly far off.
EARLIEST_DATE = dt.date(1970, 1, 1)
LATEST_YEARS_AHEAD = 20


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_widget() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class JoinForm(forms.Form):
    """Step 1 of joining: who you are and a password."""

    display_name = forms.CharField(
        label=_("Name others see"),
        max_length=80,
        help_text=_("A first name or a nickname is enough."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("You sign in with it. We don't show it to other members."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=200,
        strip=False,
        help_text=_("At least 10 characters. A few unrelated words work well."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise ValidationError(_("Please write a name."), code="required")
        return name

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                _("There is already an account with this email. Sign in, or use another email."),
                code="taken",
            )
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        password = data.get("password")
        if password:
            probe = User(email=data.get("email", ""), display_name=data.get("display_name", ""))
            try:
                validate_password(password, user=probe)
            except ValidationError as error:
                self.add_error("password", error)
        return data


class CodeForm(forms.Form):
    """Step 2 of joining: the 6-digit code from the authenticator app."""

    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(ch for ch in self.cleaned_data["code"] if not ch.isspace())
        if not re.fullmatch(r"[0-9]{6}", code):
            raise ValidationError(_("Type the 6 digits your app shows."), code="format")
        return code


class InvitationForm(forms.Form):
    note = forms.CharField(
        label=_("Note for yourself"),
        max_length=80,
        required=False,
        help_text=_("Who it is for, so you recognise it later. Deleted when the link is used."),
    )

    def clean_note(self) -> str:
        return " ".join(self.cleaned_data["note"].split())


class FoundingInvitationForm(InvitationForm):
    """A founding link: who it is for, and what they start as."""

    founding = forms.ChoiceField(
        label=_("They start as"),
        choices=Founding.choices,
        initial=Founding.MEMBER,
        widget=forms.RadioSelect,
    )


class SmsInvitationForm(forms.Form):
    """Invite a member without a smartphone by their number (an SMS-only membership)."""

    display_name = forms.CharField(
        label=_("Their name"),
        max_length=80,
        help_text=_("As others will see it: a first name or a nickname is enough."),
    )
    phone = forms.CharField(
        label=_("Their mobile number"),
        max_length=40,
        help_text=_("A US number like (213) 555-0123, or any number starting with +."),
    )
    language = forms.ChoiceField(label=_("Language of their texts"), choices=Language.choices)
    full = forms.BooleanField(
        label=_("Full member at once (you know them well: no probation)"), required=False
    )

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise ValidationError(_("Please write a name."), code="required")
        return name

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


class AnnouncementForm(forms.Form):
    body = forms.CharField(
        label=_("Message to the committee"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError(_("Please write a message."), code="required")
        return body


class RolesForm(forms.Form):
    is_dispatcher = forms.BooleanField(label=_("Dispatcher"), required=False)
    is_legal = forms.BooleanField(label=_("Legal team"), required=False)
    is_intake = forms.BooleanField(
        label=_("Intake"),
        required=False,
        help_text=_(
            "Types reports from calls and sees the incidents they went into. Can't ask for "
            "verification, confirm or alert."
        ),
    )
    is_coordinator = forms.BooleanField(
        label=_("Coordinator"),
        required=False,
        help_text=_(
            "Another coordinator must approve this first. Then the person is signed out and "
            "must sign in with a passkey."
        ),
    )


class MemberSkillsForm(forms.Form):
    skills = forms.MultipleChoiceField(
        label=_("Skills"),
        choices=SkillKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


# Phone numbers: US numbers in any common writing, or any E.164 number.
_PHONE_JUNK = re.compile(r"[\s().\-]")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_NANP = re.compile(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}")


def normalize_phone(value: str) -> str:
    """A phone number in E.164 form (+12135550123), or raise ValidationError."""
    raw = _PHONE_JUNK.sub("", value or "")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if re.fullmatch(r"[0-9]{10}", raw):
        raw = "+1" + raw
    elif re.fullmatch(r"1[0-9]{10}", raw):
        raw = "+" + raw
    if not _E164.fullmatch(raw) or (raw.startswith("+1") and not _NANP.fullmatch(raw)):
        raise ValidationError(
            _("Write a phone number like (213) 555-0123 or +1 213 555 0123."), code="phone"
        )
    return raw


class ProfileForm(forms.Form):
    display_name = JoinForm.base_fields["display_name"]
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Language.choices,
        help_text=_("The language of these pages and of the messages we send you."),
    )
    notify_email = forms.BooleanField(label=_("Send me email"), required=False)
    notify_sms = forms.BooleanField(label=_("Send me text messages"), required=False)
    # Shown only while the Signal transport is configured (ProfileForm(..., signal=True)).
    notify_signal = forms.BooleanField(
        label=_("Send me Signal messages"),
        required=False,
        help_text=_("To the Signal account of your mobile phone number."),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        required=False,
        help_text=_("For text messages. Coordinators see it hidden unless they choose to show it."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )

    clean_display_name = JoinForm.clean_display_name

    def __init__(self, *args: Any, signal: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not signal:
            del self.fields["notify_signal"]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        return normalize_phone(phone) if phone else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("notify_sms") and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("To get text messages, add your mobile phone."))
        elif data.get("notify_signal") and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("To get Signal messages, add your mobile phone."))
        return data


def _check_date(value: dt.date | None, *, not_future: bool) -> None:
    if value is None:
        return
    today = timezone.localdate()
    if value < EARLIEST_DATE:
        raise ValidationError(_("That date is too long ago."), code="range")
    if not_future and value > today:
        raise ValidationError(_("That date is in the future."), code="future")
    if value > today.replace(year=today.year + LATEST_YEARS_AHEAD):
        raise ValidationError(_("That date is too far ahead."), code="range")


class OwnSkillsForm(forms.Form):
    """One row per skill: have it?, trained on, training expires on.

    A trusted skill the person does not hold (accounts.models.TRUSTED_SKILLS) is asked for,
    not taken: its box reads "ask a coordinator", and `requested` names what is waiting.
    """

    def __init__(
        self,
        *args: Any,
        held: Collection[str] = (),
        requested: Collection[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.held, self.requested = set(held), set(requested)
        for kind, label in SkillKind.choices:
            help_text = ""
            if kind in TRUSTED_SKILLS and kind in self.requested:
                help_text = _("You asked for this: waiting for a coordinator to decide.")
            elif kind in TRUSTED_SKILLS and kind not in self.held:
                help_text = _(
                    "A coordinator gives this skill. Tick it to ask them; they decide on "
                    "their Requests page."
                )
            self.fields[f"{kind}_has"] = forms.BooleanField(
                label=label, required=False, help_text=help_text
            )
            self.fields[f"{kind}_trained_on"] = forms.DateField(
                label=_("Trained on"), required=False, widget=_date_widget()
            )
            self.fields[f"{kind}_expires_on"] = forms.DateField(
                label=_("Training expires on"), required=False, widget=_date_widget()
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"{k}_has"], self[f"{k}_trained_on"], self[f"{k}_expires_on"])
            for k in SkillKind.values
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for kind in SkillKind.values:
            trained = data.get(f"{kind}_trained_on")
            expires = data.get(f"{kind}_expires_on")
            for name, value, not_future in (
                (f"{kind}_trained_on", trained, True),
                (f"{kind}_expires_on", expires, False),
            ):
                try:
                    _check_date(value, not_future=not_future)
                except ValidationError as error:
                    self.add_error(name, error)
            if trained and expires and expires < trained:
                self.add_error(
                    f"{kind}_expires_on", _("The expiry must be after the training date.")
                )
            if (trained or expires) and not data.get(f"{kind}_has"):
                self.add_error(f"{kind}_has", _("Tick this box to keep the dates you wrote."))
        return data

    def entries(self) -> list[SkillEntry]:
        data = self.cleaned_data
        return [
            SkillEntry(kind, data.get(f"{kind}_trained_on"), data.get(f"{kind}_expires_on"))
            for kind in SkillKind.values
            if data.get(f"{kind}_has")
        ]


class AreaForm(forms.Form):
    """A ZIP code or one neighbourhood-size cell from a short list; never an address."""

    MODE_ZIP, MODE_CELL, MODE_NONE = "zip", "cell", "none"

    mode = forms.ChoiceField(
        label=_("How do you want to give your area?"),
        choices=[
            (MODE_ZIP, _("By ZIP code")),
            (MODE_CELL, _("By picking a neighbourhood from the list")),
            (MODE_NONE, _("I'd rather not say")),
        ],
        widget=forms.RadioSelect,
    )
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    cell = forms.ChoiceField(label=_("Neighbourhood"), required=False, widget=forms.RadioSelect)

    def __init__(self, *args: Any, cells: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cell"].choices = cells

    def clean_zip_code(self) -> str:
        zip_code = self.cleaned_data["zip_code"].strip()
        if zip_code and not geo.is_zip_format(zip_code):
            raise ValidationError(_("A ZIP code is 5 digits, like 90033."), code="format")
        if zip_code and not geo.is_real_zip(zip_code):
            raise ValidationError(_("We don't know this ZIP code. Check it?"), code="unknown")
        return zip_code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mode = data.get("mode")
        if mode == self.MODE_ZIP and not data.get("zip_code") and "zip_code" not in self.errors:
            self.add_error("zip_code", _("Write your ZIP code."))
        if mode == self.MODE_CELL and not data.get("cell") and "cell" not in self.errors:
            self.add_error("cell", _("Pick a neighbourhood."))
        return data

    def area(self) -> tuple[str, str]:
        """(zip_code, cell) to store: exactly one, or neither."""
        mode = self.cleaned_data["mode"]
        if mode == self.MODE_ZIP:
            return self.cleaned_data["zip_code"], ""
        if mode == self.MODE_CELL:
            return "", self.cleaned_data["cell"]
        return "", ""


class OnDutyForm(forms.Form):
    on = forms.TypedChoiceField(
        choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1", empty_value=False
    )


class ShiftForm(forms.Form):
    committee = forms.ChoiceField(label=_("Committee"))
    weekday = forms.TypedChoiceField(label=_("Day"), choices=Weekday.choices, coerce=int)
    start = forms.TimeField(label=_("From"), widget=_time_widget())
    end = forms.TimeField(
        label=_("Until"),
        widget=_time_widget(),
        help_text=_("An end before the start runs past midnight into the next day."),
    )

    def __init__(self, *args: Any, committees: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["committee"].choices = committees
        if len(committees) == 1:
            self.fields["committee"].initial = committees[0][0]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and start == end:
            self.add_error("end", _("A shift can't start and end at the same time."))
        return data


# Setting up the network ---------------------------------------------------------------

_SPLIT_PLACES = re.compile(r"[\s,;]+")
MAX_PLACES = 500  # a committee is a neighbourhood or a city, not a country


def _places(value: str) -> list[str]:
    """Words typed or pasted (one per line, or separated by spaces, commas or semicolons)."""
    return list(dict.fromkeys(w for w in _SPLIT_PLACES.split(value or "") if w))


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class CommitteeNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name or any(not ch.isprintable() for ch in name):
            raise ValidationError(_("Give the committee a name people will recognise."))
        return name


class NewCommitteeForm(CommitteeNameForm):
    kind = forms.ChoiceField(label=_("Kind"))

    def __init__(self, *args: Any, kinds: Collection[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, Kind(k).label) for k in kinds]


class MoveCommitteeForm(forms.Form):
    parent = forms.ChoiceField(label=_("Sits below"))

    def __init__(self, *args: Any, parents: list[Committee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parents = {str(p.pk): p for p in parents}
        self.fields["parent"].choices = [(str(p.pk), p.name) for p in parents]

    def clean_parent(self) -> Committee:
        return self.parents[self.cleaned_data["parent"]]


class CommitteeAreaForm(forms.Form):
    zip_codes = forms.CharField(
        label=_("ZIP codes"),
        help_text=_("Type or paste them: one per line, or separated by spaces or commas."),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "inputmode": "numeric"}),
    )
    nearby_cells = forms.MultipleChoiceField(
        label=_("Neighbourhoods around these ZIP codes"),
        help_text=_("Optional: tick the ones this committee answers for."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    h3_cells = forms.CharField(
        label=_("Other neighbourhood cells (h3)"),
        help_text=_("Optional, for people who know h3: cells of resolution %(res)d.")
        % {"res": geo.AREA_RESOLUTION},
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        help_text=_("As in America/Los_Angeles: shifts and times are shown in it."),
        max_length=64,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages the committee works in"),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, nearby: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nearby_cells"].choices = nearby
        self.fields["languages"].choices = list(settings.LANGUAGES)

    @staticmethod
    def typed_zip_codes(value: str) -> list[str]:
        """The real ZIP codes among those typed (to list the neighbourhoods around them)."""
        return [z for z in _places(value)[:MAX_PLACES] if geo.is_real_zip(z)]

    def clean_zip_codes(self) -> list[str]:
        found = _places(self.cleaned_data.get("zip_codes", ""))
        if len(found) > MAX_PLACES:
            raise ValidationError(
                _("At most %(count)d ZIP codes per committee.") % {"count": MAX_PLACES}
            )
        bad = [z for z in found if not geo.is_real_zip(z)]
        if bad:
            raise ValidationError(
                _("These are not US ZIP codes: %(zips)s") % {"zips": ", ".join(bad[:5])[:60]}
            )
        return found

    def clean_h3_cells(self) -> list[str]:
        found = _places(self.cleaned_data.get("h3_cells", "").lower())
        if len(found) > MAX_PLACES:
            raise ValidationError(
                _("At most %(count)d cells per committee.") % {"count": MAX_PLACES}
            )
        for cell in found:
            res = geo.cell_resolution(cell)
            if res is None:
                raise ValidationError(_("Not an h3 cell: %(cell)s") % {"cell": cell[:20]})
            if res != geo.AREA_RESOLUTION:
                raise ValidationError(
                    _("%(cell)s has resolution %(res)d; use cells of resolution %(want)d.")
                    % {"cell": cell[:20], "res": res, "want": geo.AREA_RESOLUTION}
                )
        return found

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        if value not in _time_zones():
            raise ValidationError(_("Not a time zone we know. Write it as in America/Los_Angeles."))
        return value

    def area(self) -> dict[str, Any]:
        data = self.cleaned_data
        cells = list(dict.fromkeys([*data["nearby_cells"], *data["h3_cells"]]))
        return {
            "zip_codes": data["zip_codes"],
            "h3_cells": cells,
            "time_zone": data["time_zone"],
            "languages": [code for code, _n in settings.LANGUAGES if code in data["languages"]],
        }


class RecoveryAskForm(forms.Form):
    """The public recovery form: an email address or a mobile number, nothing else."""

    who = forms.CharField(
        label=_("Your email address or mobile phone number"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    def clean_who(self) -> str:
        value = self.cleaned_data["who"].strip()
        if "@" in value:
            try:
                forms.EmailField().clean(value)
            except ValidationError:
                raise ValidationError(
                    _("Write an email address like name@example.org, or a phone number."),
                    code="who",
                ) from None
            return value.lower()
        return normalize_phone(value)


class RecoverySetForm(forms.Form):
    """Through the recovery link: a new password and a code from a new authenticator app."""

    password = forms.CharField(
        label=_("New password"),
        max_length=256,
        strip=False,
        help_text=_("At least 10 characters. A few unrelated words are easy to remember."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    code = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}
        ),
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password, self.user)
        return password

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit() or len(code) != 6:
            raise ValidationError(_("Type the 6 digits the app shows."), code="code")
        return code


class SwapForm(forms.Form):
    """A member picks who would take one of their shifts."""

    taker = forms.TypedChoiceField(label=_("Who takes it"), coerce=int)

    def __init__(self, *args: Any, takers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taker"].choices = takers


class AssignShiftForm(forms.Form):
    """A coordinator puts a member on a weekly shift."""

    member = forms.TypedChoiceField(label=_("Who"), coerce=int)
    weekday = forms.TypedChoiceField(label=_("Day"), choices=Weekday.choices, coerce=int)
    start = forms.TimeField(label=_("From"), widget=_time_widget())
    end = forms.TimeField(
        label=_("Until"),
        widget=_time_widget(),
        help_text=_("An end before the start runs past midnight into the next day."),
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = members

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and start == end:
            self.add_error("end", _("A shift can't start and end at the same time."))
        return data


MAX_PLACE_NAMES = 2000


class PlaceNamesForm(forms.Form):
    """One line a ZIP code: "90033 Boyle Heights" (a comma, tab or spaces between)."""

    names = forms.CharField(
        label=_("Neighbourhood names"),
        help_text=_(
            "One line for each ZIP code: the ZIP, then the name people use, as in "
            "“90033 Boyle Heights”. Leave a ZIP out to use its number alone."
        ),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
    )

    def clean_names(self) -> dict[str, str]:
        found: dict[str, str] = {}
        problems: list[str] = []
        lines = [line.strip() for line in self.cleaned_data["names"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > MAX_PLACE_NAMES:
            raise ValidationError(
                _("At most %(n)d lines, one a ZIP code.") % {"n": MAX_PLACE_NAMES}
            )
        for number, line in enumerate(lines, start=1):
            zip_code, _sep, name = line.replace("\t", " ").replace(",", " ", 1).partition(" ")
            name = " ".join(name.split())
            if not geo.is_real_zip(zip_code):
                problems.append(
                    _("Line %(n)d: “%(zip)s” is not a ZIP code we know.")
                    % {"n": number, "zip": zip_code[:10]}
                )
            elif not name or len(name) > 80 or any(not ch.isprintable() for ch in name):
                problems.append(
                    _("Line %(n)d: give ZIP %(zip)s a name of 1 to 80 letters.")
                    % {"n": number, "zip": zip_code}
                )
            elif zip_code in found:
                problems.append(
                    _("Line %(n)d: ZIP %(zip)s is named twice.") % {"n": number, "zip": zip_code}
                )
            else:
                found[zip_code] = name
        if problems:
            raise ValidationError(problems[:20])
        return found
