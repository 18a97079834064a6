from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import SkillKind
from defensa.broadcasts import segments
from defensa.core import geo

MAX_TEXT = 1000  # characters; longer is a letter, not a broadcast (7+ SMS segments)
_SPLIT = re.compile(r"[\s,;]+")


def _words(value: str) -> list[str]:
    return [w for w in _SPLIT.split(value or "") if w]


class BroadcastForm(forms.Form):
    include_subcommittees = forms.BooleanField(
        label=_("Include the local committees below this one"), required=False, initial=True
    )
    zip_codes = forms.CharField(
        label=_("Only people living in these ZIP codes"),
        help_text=_("Optional. Separate them with spaces or commas."),
        required=False,
        max_length=300,
    )
    h3_cells = forms.CharField(
        label=_("Only people in these map areas (h3 cells)"),
        help_text=_("Optional, for people who know h3. Separate them with spaces or commas."),
        required=False,
        max_length=600,
    )
    skill = forms.ChoiceField(
        label=_("Only people with this skill"),
        choices=[("", _("Any skill or none"))] + list(SkillKind.choices),
        required=False,
    )
    language = forms.ChoiceField(
        label=_("Only people who read"),
        choices=[("", _("Any language"))],
        required=False,
    )

    to_subscribers = forms.BooleanField(
        label=_("Also send it by text to the area's alert subscribers"),
        help_text=_(
            "People without an account who asked for verified alerts near their ZIP code. "
            "Only for public announcements; not with a skill."
        ),
        required=False,
    )

    def __init__(self, *args: Any, committee: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Filters of apps above (segments.register_filter), each with its own field.
        self.extra_names: list[str] = []
        if committee is not None:
            for name, make in segments.EXTRA_FIELDS.items():
                field = make(committee)
                if field is not None:
                    self.fields[f"extra_{name}"] = field
                    self.extra_names.append(name)
        self.fields["language"].choices = [("", _("Any language")), *settings.LANGUAGES]
        # One text per language, first, as people write it: English, Spanish and the
        # committee's own languages in view; the others folded (more_text_fields).
        self.committee_languages = list(getattr(committee, "languages", None) or [])
        texts = {}
        for code, name in settings.LANGUAGES:
            texts[f"text_{code}"] = forms.CharField(
                label=_("Message in %(language)s") % {"language": name},
                max_length=MAX_TEXT,
                # English and Spanish always; another language only where someone wrote it
                # (its readers otherwise get the committee's first language: messages.py).
                required=code in ("en", "es"),
                widget=forms.Textarea(attrs={"rows": 5, "lang": code}),
                help_text=_(
                    "Everyone gets it in their own language, so write it in each one. "
                    "Plain letters keep text messages cheaper."
                ),
            )
        self.fields = {**texts, **self.fields}

    def clean_zip_codes(self) -> list[str]:
        found = _words(self.cleaned_data.get("zip_codes", ""))
        bad = [z for z in found if not geo.is_real_zip(z)]
        if bad:
            raise forms.ValidationError(
                _("These are not US ZIP codes: %(zips)s") % {"zips": ", ".join(bad[:5])[:60]}
            )
        return list(dict.fromkeys(found))

    def clean_h3_cells(self) -> list[str]:
        found = _words(self.cleaned_data.get("h3_cells", ""))
        for cell in found:
            if not geo.area_cells_from([cell]):
                raise forms.ValidationError(
                    _("Not an h3 cell we can use (too big or not valid): %(cell)s")
                    % {"cell": cell[:20]}
                )
        return list(dict.fromkeys(found))

    def broadcast_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "texts": {
                code: data[f"text_{code}"].strip()
                for code, _n in settings.LANGUAGES
                if data[f"text_{code}"].strip() or code in ("en", "es")
            },
            "include_subcommittees": data["include_subcommittees"],
            "zip_codes": data["zip_codes"],
            "h3_cells": data["h3_cells"],
            "skill": data["skill"],
            "language": data["language"],
            "extra": {
                name: data[f"extra_{name}"]
                for name in self.extra_names
                if data.get(f"extra_{name}") not in (None, "")
            },
            "to_subscribers": data["to_subscribers"],
        }

    def _in_view(self, name: str) -> bool:
        code = name.removeprefix("text_")
        return code in ("en", "es") or code in self.committee_languages

    def text_fields(self) -> list[forms.BoundField]:
        """English, Spanish and the languages the committee works in."""
        return [self[n] for n in self.fields if n.startswith("text_") and self._in_view(n)]

    def more_text_fields(self) -> list[forms.BoundField]:
        """The other languages' boxes, behind a <details> (open when one holds text or an
        error, so nothing written is hidden)."""
        return [self[n] for n in self.fields if n.startswith("text_") and not self._in_view(n)]

    def more_texts_open(self) -> bool:
        return any(f.errors or (f.value() or "").strip() for f in self.more_text_fields())

    def segment_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("text_")]
