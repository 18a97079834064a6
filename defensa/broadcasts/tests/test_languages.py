"""A broadcast in ten languages: which boxes show, and what a reader of each language gets."""

from __future__ import annotations

from types import SimpleNamespace

from defensa.broadcasts.forms import BroadcastForm
from defensa.broadcasts.messages import text_for
from defensa.core import languages


def test_a_language_nobody_wrote_in_gets_the_committees_first_language() -> None:
    committee = SimpleNamespace(languages=["es", "ko"])
    broadcast = SimpleNamespace(
        texts={"en": "Meeting", "es": "Reunión", "ar": ""}, committee=committee
    )
    assert text_for(broadcast, "en") == "Meeting"
    assert text_for(broadcast, "ko") == "Reunión"  # no Korean text: Spanish, the committee's first
    assert text_for(broadcast, "ar") == "Reunión"  # an empty text is no text
    broadcast.texts["ko"] = "회의"
    assert text_for(broadcast, "ko") == "회의"
    # A committee that named no languages: the site's default language.
    broadcast.committee = SimpleNamespace(languages=[])
    assert text_for(broadcast, "vi") == "Meeting"


def test_english_and_spanish_always_show_the_committees_languages_too_the_rest_folded() -> None:
    form = BroadcastForm(committee=None)
    assert [f.name for f in form.text_fields()] == ["text_en", "text_es"]
    folded = [f.name for f in form.more_text_fields()]
    assert folded == [f"text_{code}" for code in languages.CODES if code not in ("en", "es")]
    assert not form.more_texts_open()
    korean = SimpleNamespace(languages=["es", "ko"])
    form = BroadcastForm({"text_en": "Meeting", "text_es": "Reunión", "text_ar": "اجتماع"})
    form.committee_languages = korean.languages
    assert [f.name for f in form.text_fields()] == ["text_en", "text_es", "text_ko"]
    assert form.more_texts_open()  # something is written in a folded box: shown open
    assert form.is_valid(), form.errors
    assert form.broadcast_fields()["texts"] == {"en": "Meeting", "es": "Reunión", "ar": "اجتماع"}
    # English and Spanish stay required; the other eight are not.
    form = BroadcastForm({"text_en": "Meeting"})
    assert not form.is_valid()
    assert list(form.errors) == ["text_es"]
