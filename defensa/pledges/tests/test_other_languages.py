"""A campaign's title and pledge in the network's other languages: given by its coordinator,
shown to each reader in theirs (English where none was given), on the page and in the flip's
message; bad input refused with a clear, translated error and nothing stored."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.committees import own_words
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.pledges import actions
from defensa.pledges.models import Campaign, Pledge, State
from defensa.pledges.tests.helpers import open_campaign

pytestmark = pytest.mark.django_db

VI_TITLE = "Đình công thứ Hai"
VI_TEXT = "Tôi sẽ nghỉ việc vào thứ Hai nếu 2 người trong chúng ta cam kết."
AR_TITLE = "إضراب يوم الاثنين"


def form(**overrides):  # type: ignore[no-untyped-def]
    day = timezone.localdate() + dt.timedelta(days=2)
    values = {
        "title_en": "Walk out Monday",
        "title_es": "Paro el lunes",
        "text_en": "I will walk out on Monday if 2 of us pledge.",
        "text_es": "Paro el lunes si 2 lo prometemos.",
        "scope": "committee",
        "threshold_kind": "count",
        "threshold": "2",
        "deadline_date": day.isoformat(),
        "deadline_time": "17:00",
    }
    values.update(overrides)
    return values


def _input(page: str, name: str) -> str:
    found = re.search(rf"<(?:input|textarea)[^>]*name=\"{name}\"[^>]*>", page)
    assert found, name
    return found.group(0)


def test_the_form_folds_one_group_per_other_language_each_typed_its_own_way(client_as, net):
    page = client_as(net.ana).get("/pledges/new/boyle-heights/").content.decode()
    start = page.index('<details class="other-languages"')
    folded = page[start : page.index("</details>", start)]
    # English and Spanish stay where they were, outside; the eight others inside, named in
    # themselves.
    assert 'name="title_en"' not in folded and 'name="text_es"' not in folded
    for name in ("Tiếng Việt", "Tagalog", "العربية", "简体中文", "繁體中文", "한국어", "Հայերեն"):
        assert name in folded
    assert "Kreyòl ayisyen" in folded
    assert '<details class="other-languages">' in page  # closed while empty
    arabic = _input(page, "text_ar")
    assert 'dir="rtl"' in arabic and 'lang="ar"' in arabic
    assert 'dir="rtl"' in _input(page, "title_ar")
    vietnamese = _input(page, "title_vi")
    assert 'lang="vi"' in vietnamese and 'dir="ltr"' in vietnamese
    assert 'lang="zh-hans"' in _input(page, "text_zh_hans")


def test_a_coordinator_adds_a_vietnamese_title_and_pledge(client_as, net):
    client = client_as(net.ana)
    response = client.post(
        "/pledges/new/boyle-heights/",
        form(title_vi=f"  {VI_TITLE} ", text_vi=VI_TEXT, title_ar=AR_TITLE, title_tl=" "),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    # Stripped, and a language left blank is not stored at all.
    assert campaign.translations == {
        "vi": {"title": VI_TITLE, "text": VI_TEXT},
        "ar": {"title": AR_TITLE},
    }
    entry = AuditEntry.objects.get(action="pledges.open_campaign")
    assert entry.data["languages"] == ["ar", "vi"]
    # The coordinator's page shows what was given, each marked with its language.
    page = client.get(f"/pledges/{campaign.pk}/").content.decode()
    assert VI_TITLE in page and VI_TEXT in page and AR_TITLE in page
    assert '<div lang="ar" dir="rtl">' in page
    # Arabic was given a title only: its readers get the English pledge.
    assert campaign.title("ar") == AR_TITLE and campaign.text("ar") == campaign.text_en


def test_each_reader_gets_their_language_or_english(net):
    campaign = open_campaign(
        net.boyle, net.ana, translations={"vi": {"title": VI_TITLE, "text": VI_TEXT}}
    )
    url = f"/pledges/p/{campaign.code}/"
    for language, title, text, marked in [
        ("vi", VI_TITLE, VI_TEXT, 'lang="vi"'),
        ("es", "Paro el lunes", "Paro el lunes si 3", 'lang="es"'),
        ("tl", "Walk out Monday", "I will walk out", 'lang="en"'),
        ("en", "Walk out Monday", "I will walk out", 'lang="en"'),
    ]:
        reader = Client()
        reader.cookies["django_language"] = language
        page = reader.get(url).content.decode()
        assert f'<html lang="{language}"' in page
        assert f"<h1 {marked}" in page and title in page
        assert f"<blockquote {marked}" in page and text in page
    assert campaign.title("zh-hant") == "Walk out Monday"


def test_the_flip_tells_a_vietnamese_pledger_in_vietnamese_and_others_in_english(net):
    campaign = open_campaign(
        net.boyle,
        net.ana,
        threshold=2,
        require_confirmation=False,
        translations={"vi": {"title": VI_TITLE, "text": VI_TEXT}},
    )
    for language, phone in (("vi", "+13235550161"), ("tl", "+13235550162")):
        pledger = Client()
        pledger.cookies["django_language"] = language
        pledger.post(f"/pledges/p/{campaign.code}/", {"phone": phone})
    assert sorted(Pledge.objects.values_list("language", flat=True)) == ["tl", "vi"]
    campaign.refresh_from_db()
    assert campaign.state == State.REACHED
    told = {d.resolve_address(): d for d in Delivery.objects.filter(template="pledge_reached")}
    vietnamese, tagalog = told["+13235550161"], told["+13235550162"]
    assert vietnamese.language == "vi" and tagalog.language == "tl"
    body = messages.render(vietnamese).body
    assert VI_TITLE in body and "Walk out Monday" not in body
    assert "Walk out Monday" in messages.render(tagalog).body


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"title_vi": "x" * 121}, "Ensure this value has at most 120 characters (it has 121)."),
        ({"text_vi": "x" * 601}, "Ensure this value has at most 600 characters (it has 601)."),
        ({"text_ar": "a\x07b"}, "Remove the special characters."),
        ({"title_ko": "a\x00b"}, "Null characters are not allowed."),
    ],
)
def test_bad_words_in_another_language_are_refused_and_nothing_is_stored(
    client_as, net, overrides, error
):
    response = client_as(net.ana).post("/pledges/new/boyle-heights/", form(**overrides))
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert error in page
    # The folded group opens so the error is seen.
    assert '<details class="other-languages" open>' in page
    assert Campaign.objects.count() == 0


def test_the_error_is_in_spanish_for_a_spanish_speaking_coordinator(client_as, net):
    client = client_as(net.ana)
    client.cookies["django_language"] = "es"
    page = client.post("/pledges/new/boyle-heights/", form(text_vi="a\x07b")).content.decode()
    assert "Quita los caracteres especiales." in page
    assert "Vietnamita: la promesa" in page
    assert Campaign.objects.count() == 0


def test_a_language_the_network_does_not_speak_is_ignored_by_the_form(client_as, net):
    client_as(net.ana).post("/pledges/new/boyle-heights/", form(title_xx="Hello", title_fr="Oui"))
    assert Campaign.objects.get().translations == {}


@pytest.mark.parametrize(
    ("translations", "english", "spanish"),
    [
        ({"fr": {"title": "Grève"}}, "does not speak the language “fr”", "no habla el idioma “fr”"),
        ({"es": {"title": "Paro"}}, "have their own fields", "tienen sus propios campos"),
        ({"vi": {"title": "x" * 121}}, "at most 120 characters", "como mucho 120 caracteres"),
        ({"vi": {"text": "x" * 601}}, "at most 600 characters", "como mucho 600 caracteres"),
        ({"vi": {"colour": "red"}}, "could not be read", "No se pudieron leer"),
        ({"vi": {"title": 7}}, "could not be read", "No se pudieron leer"),
        ({"vi": "Đình công"}, "could not be read", "No se pudieron leer"),
    ],
)
def test_opening_refuses_bad_translations_whoever_calls_it(net, translations, english, spanish):
    for language, expected in (("en", english), ("es", spanish)):
        with translation.override(language), pytest.raises(actions.PledgeError) as refused:
            open_campaign(net.boyle, net.ana, translations=translations)
        assert refused.value.code == "translations"
        assert expected in str(refused.value.message)
    assert Campaign.objects.count() == 0


_code = st.one_of(st.sampled_from(["vi", "ar", "en", "es", "zh-hans", "xx"]), st.text(max_size=8))
_value = st.one_of(st.text(max_size=700), st.integers(), st.none(), st.lists(st.text(), max_size=2))


@given(
    value=st.one_of(
        st.dictionaries(
            _code,
            st.one_of(st.dictionaries(st.sampled_from(["title", "text", "x"]), _value), _value),
            max_size=3,
        ),
        _value,
    )
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_translations_are_either_clean_or_refused_with_a_message(value):
    try:
        cleaned = own_words.check(value, actions.CAMPAIGN_WORDS)
    except own_words.ValidationError as error:
        assert error.messages and all(error.messages)
        return
    for code, words in cleaned.items():
        assert code in ("zh-hans", "vi", "ar") and words
        assert set(words) <= {"title", "text"}
        assert all(isinstance(w, str) and w == w.strip() and w for w in words.values())
        assert len(words.get("title", "")) <= 120 and len(words.get("text", "")) <= 600
