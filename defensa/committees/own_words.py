"""A coordinator's own words in the network's other languages: a pledge campaign's title and
pledge, a vote's question and its options.

English is required and Spanish has its own fields, as everywhere; each other language of
core/languages.py is optional. Stored as one JSON object per row, {code: {key: words}}
(e.g. {"vi": {"title": "...", "text": "..."}}), read back by core.languages.own_words, which
falls back to English where a language was not given.

Two halves, used by the apps above (pledges, votes):

- `check()` takes that object and returns it cleaned, or raises a ValidationError whose
  message is translated: a language code the network does not speak, English or Spanish
  (their own fields hold them), a key or a value of the wrong kind, control characters,
  words longer than the English field allows. The apps' actions call it, so nothing reaches
  a row unchecked whoever calls them.
- `OtherLanguagesForm`, a form mixin: one optional group of fields per other language, the
  inputs marked with the language (`lang`, and `dir="rtl"` for Arabic) so each is typed and
  read the right way, shown folded under a <details> (committees/_other_languages.html) so a
  form stays short on a phone.

These are coordinators' pages, so their strings are in English and Spanish only, like the
other staff pages (core/languages.py); the words themselves are shown on the public pages
and in messages by the apps' own templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from defensa.core.languages import BY_CODE, OTHER, OTHER_CODES, Language

# The labels of the apps' words ("Vietnamese: title"), here with the form they go in. The
# language's name comes first: it is a name on its own in every catalogue ("Vietnamita").
TITLE = _("%(language)s: title")
PLEDGE = _("%(language)s: the pledge")
QUESTION = _("%(language)s: the question")
OPTIONS = _("%(language)s: options, one per line, in the same order as in English")


@dataclass(frozen=True)
class Words:
    """One kind of words a row keeps in other languages, e.g. a campaign's title."""

    key: str  # the key in the stored object ("title")
    label: str | Promise  # the field's label, with %(language)s for the language's name
    max_length: int  # the English field's limit
    multiline: bool = False  # a textarea; line breaks kept
    lines: bool = False  # one item per line (a vote's options): stored as a list


def _no_controls(value: str, *, keep_lines: bool) -> str:
    if any(
        (ord(ch) < 0x20 and not (keep_lines and ch in "\r\n")) or ord(ch) == 0x7F for ch in value
    ):
        raise ValidationError(_("Remove the special characters."), code="control")
    return value.strip()


def _too_long(words: Words, language: Language) -> ValidationError:
    return ValidationError(
        _("%(what)s: at most %(limit)d characters, as in English.")
        % {"what": words.label % {"language": language.english}, "limit": words.max_length},
        code="max_length",
    )


def check(value: object, kinds: tuple[Words, ...]) -> dict[str, dict[str, Any]]:
    """The translations cleaned (words stripped, empty ones and empty languages left out), or
    a ValidationError saying in the reader's language what is wrong."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("The other languages could not be read."), code="shape")
    by_key = {w.key: w for w in kinds}
    cleaned: dict[str, dict[str, Any]] = {}
    for code, given in value.items():
        if not isinstance(code, str) or code not in OTHER_CODES:
            shown = code[:12] if isinstance(code, str) else "?"
            if shown in ("en", "es"):
                message = _("English and Spanish have their own fields.")
            else:
                message = _("The network does not speak the language “%(code)s”.") % {"code": shown}
            raise ValidationError(message, code="language")
        language = BY_CODE[code]
        if not isinstance(given, dict) or not all(k in by_key for k in given):
            raise ValidationError(_("The other languages could not be read."), code="shape")
        kept: dict[str, Any] = {}
        for key, words in given.items():
            kind = by_key[key]
            items = words if kind.lines else [words]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ValidationError(_("The other languages could not be read."), code="shape")
            items = [_no_controls(i, keep_lines=kind.multiline) for i in items]
            if any(len(i) > kind.max_length for i in items):
                raise _too_long(kind, language)
            if kind.lines:
                if any(items):
                    if not all(items):
                        raise ValidationError(
                            _("%(what)s: leave no line empty.")
                            % {"what": kind.label % {"language": language.english}},
                            code="lines",
                        )
                    kept[key] = items
            elif items[0]:
                kept[key] = items[0]
        if kept:
            cleaned[code] = kept
    return cleaned


def field_name(words: Words, language: Language) -> str:
    return f"{words.key}_{language.code.replace('-', '_')}"


def _widget(words: Words, language: Language) -> forms.Widget:
    # The language of what is typed, so a browser, a screen reader and a spell checker treat
    # it as such; Arabic is typed right to left.
    attrs = {"lang": language.code, "dir": "rtl" if language.rtl else "ltr"}
    if words.multiline or words.lines:
        return forms.Textarea(attrs={**attrs, "rows": 4})
    return forms.TextInput(attrs=attrs)


class OtherLanguagesForm(forms.Form):
    """A form with the coordinator's words in English and Spanish, plus, folded, the same
    words in each other language (all optional). Call `add_other_languages()` at the end of
    __init__ and `other_languages()` in clean()."""

    other_words: tuple[Words, ...] = ()

    def add_other_languages(self) -> None:
        for language in OTHER:
            for words in self.other_words:
                # Items one per line: each item's limit is checked in clean, the box's here.
                limit = words.max_length * 12 + 11 if words.lines else words.max_length
                self.fields[field_name(words, language)] = forms.CharField(
                    label=words.label % {"language": language.english},
                    max_length=limit,
                    required=False,
                    widget=_widget(words, language),
                )

    def _other_names(self) -> set[str]:
        return {field_name(w, lang) for lang in OTHER for w in self.other_words}

    def main_fields(self) -> list[forms.BoundField]:
        """The form's own fields, in order, without the other languages'."""
        others = self._other_names()
        return [self[name] for name in self.fields if name not in others]

    def language_groups(self) -> list[tuple[Language, list[forms.BoundField]]]:
        """Each other language with its fields, for committees/_other_languages.html."""
        return [
            (language, [self[field_name(w, language)] for w in self.other_words])
            for language in OTHER
        ]

    def other_languages_open(self) -> bool:
        """Open the <details> when a box holds words or an error: nothing typed is hidden."""
        return any(
            field.errors or (field.value() or "").strip()
            for _language, fields in self.language_groups()
            for field in fields
        )

    def other_languages(self) -> dict[str, dict[str, Any]]:
        """The words typed in other languages as the stored object, each box's problem put
        next to it (call from clean(); an empty object when a box has an error)."""
        found: dict[str, dict[str, Any]] = {}
        for language in OTHER:
            for words in self.other_words:
                name = field_name(words, language)
                value = self.cleaned_data.get(name)
                if not value:
                    continue
                given = (
                    [line for line in value.splitlines() if line.strip()] if words.lines else value
                )
                try:
                    kept = check({language.code: {words.key: given}}, self.other_words)
                except ValidationError as error:
                    self.add_error(name, error)
                    continue
                found.setdefault(language.code, {}).update(kept.get(language.code, {}))
        return found


def shown(
    translations: object, keys: tuple[str, ...], lists: dict[str, list[str]] | None = None
) -> list[tuple[Language, list[dict[str, Any]]]]:
    """The words given in other languages, language by language, for a coordinator's page
    (committees/_own_words.html): each as {"text": words} or, for `lists` ({code: items},
    e.g. a vote's options), {"lines": items}."""
    found = translations if isinstance(translations, dict) else {}
    out: list[tuple[Language, list[dict[str, Any]]]] = []
    for language in OTHER:
        given = found.get(language.code)
        given = given if isinstance(given, dict) else {}
        items: list[dict[str, Any]] = [
            {"text": given[key]} for key in keys if isinstance(given.get(key), str)
        ]
        if lists and lists.get(language.code):
            items.append({"lines": lists[language.code]})
        if items:
            out.append((language, items))
    return out


def check_lines(translations: dict[str, dict[str, Any]], words: Words, count: int) -> None:
    """Each language's items of `words` (a vote's options) match the English ones one for
    one, or are not given: raise a ValidationError naming the first language that does not."""
    for code, given in translations.items():
        items = given.get(words.key)
        if items is not None and len(items) != count:
            raise ValidationError(
                _("%(what)s: give one line for each of the %(count)d in English, or none.")
                % {"what": words.label % {"language": BY_CODE[code].english}, "count": count},
                code="lines",
            )
