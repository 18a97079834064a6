"""A vote's question and options in the network's other languages: given by its coordinator,
read by each voter in theirs (English where none was given) on the ballot page, in the code's
text message and its reply menu; bad input refused with a clear, translated error and nothing
stored."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone, translation

from defensa.audit.models import AuditEntry
from defensa.notify import messages
from defensa.notify.models import Channel, Delivery
from defensa.votes import actions
from defensa.votes.models import Option, Vote
from defensa.votes.tests.helpers import codes, open_vote, text

pytestmark = pytest.mark.django_db

VI_QUESTION = "Chúng ta làm ca nào vào thứ Bảy?"
VI_OPTIONS = ["Ca sáng", "Ca chiều", "Ca đêm"]
OPTIONS = [("Morning", "Mañana"), ("Afternoon", "Tarde"), ("Night", "Noche")]
VI = {"vi": {"question": VI_QUESTION, "options": VI_OPTIONS}}


def form(**overrides):  # type: ignore[no-untyped-def]
    day = timezone.localdate() + dt.timedelta(days=2)
    values = {
        "kind": "options",
        "question_en": "Which shift do we picket on Saturday?",
        "question_es": "¿Qué turno piqueteamos el sábado?",
        "options_en": "Morning\nAfternoon\nNight",
        "options_es": "Mañana\nTarde\nNoche",
        "rule": "majority",
        "quorum": "0",
        "closes_date": day.isoformat(),
        "closes_time": "17:00",
    }
    values.update(overrides)
    return values


def _choices(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="choice" value="\d+"[^>]*>\s*([^<]+)', page)


def test_the_form_folds_the_other_languages_and_arabic_is_typed_right_to_left(client_as, net):
    page = client_as(net.ana).get("/votes/new/boyle-heights/").content.decode()
    start = page.index('<details class="other-languages"')
    folded = page[start : page.index("</details>", start)]
    assert 'name="question_en"' not in folded and 'name="options_es"' not in folded
    assert "Tiếng Việt" in folded and "العربية" in folded
    for name in ("question_ar", "options_ar"):
        tag = re.search(rf"<(?:input|textarea)[^>]*name=\"{name}\"[^>]*>", folded).group(0)
        assert 'dir="rtl"' in tag and 'lang="ar"' in tag
    tag = re.search(r"<input[^>]*name=\"question_vi\"[^>]*>", folded).group(0)
    assert 'lang="vi"' in tag and 'dir="ltr"' in tag


def test_a_coordinator_gives_the_question_and_options_in_vietnamese(client_as, net):
    client = client_as(net.ana)
    response = client.post(
        "/votes/new/boyle-heights/",
        form(question_vi=VI_QUESTION, options_vi="\n".join(VI_OPTIONS) + "\n\n", question_ar="؟"),
    )
    assert response.status_code == 302
    vote = Vote.objects.get()
    assert vote.translations == {"vi": {"question": VI_QUESTION}, "ar": {"question": "؟"}}
    labels = [o.translations for o in Option.objects.filter(vote=vote)]
    assert labels == [{"vi": {"label": v}} for v in VI_OPTIONS]
    assert AuditEntry.objects.get(action="votes.create_vote").data["languages"] == ["ar", "vi"]
    page = client.get(f"/votes/{vote.pk}/").content.decode()
    assert VI_QUESTION in page and all(v in page for v in VI_OPTIONS)
    # Arabic gave the question only: its readers get the English options.
    assert [o.label("ar") for o in vote.options.all()] == ["Morning", "Afternoon", "Night"]


def test_a_yes_or_no_vote_keeps_its_fixed_answers(client_as, net):
    client_as(net.ana).post(
        "/votes/new/boyle-heights/",
        form(kind="yes_no", question_vi=VI_QUESTION, options_vi="Có\nKhông", options_ar="a\x07"),
    )
    vote = Vote.objects.get()
    assert vote.translations == {"vi": {"question": VI_QUESTION}}
    assert all(o.translations == {} for o in vote.options.all())


def test_the_ballot_page_is_in_the_voters_language_or_english(net):
    vote = open_vote(net.boyle, net.ana, kind="options", options=OPTIONS, translations=VI)
    for language, question, labels, marked in [
        ("vi", VI_QUESTION, VI_OPTIONS, 'lang="vi"'),
        ("es", "¿Autorizas", ["Mañana", "Tarde", "Noche"], 'lang="es"'),
        ("ko", "Do you authorise", ["Morning", "Afternoon", "Night"], 'lang="en"'),
    ]:
        voter = Client()
        voter.cookies["django_language"] = language
        page = voter.get(f"/votes/v/{vote.code}/").content.decode()
        assert f"<h1 {marked}" in page and question in page
        assert [c.strip() for c in _choices(page)] == labels
        assert all(f"<li {marked}" in page and label in page for label in labels)


def test_the_code_message_and_its_reply_menu_are_in_the_voters_language(net):
    net.mo.language = "vi"
    net.mo.notify_sms = True
    net.mo.save()
    net.dani.language = "tl"
    net.dani.notify_sms = True
    net.dani.save()
    vote = open_vote(net.boyle, net.ana, kind="options", options=OPTIONS, translations=VI)
    sent = Delivery.objects.filter(template="vote_code", channel=Channel.SMS)
    vietnamese = messages.render(sent.get(recipient=net.mo)).body
    assert VI_QUESTION in vietnamese
    assert "1 Ca sáng, 2 Ca chiều, 3 Ca đêm" in vietnamese
    tagalog = messages.render(sent.get(recipient=net.dani)).body
    assert "Do you authorise a strike" in tagalog and "1 Morning, 2 Afternoon, 3 Night" in tagalog
    # The answer to a ballot by text names the question in the keyword's language: Tagalog
    # (BOTO) was not given, so English.
    text(Client(), f"BOTO {codes(vote)[net.dani.pk]} 2", number="+13235550150")
    reply = Delivery.objects.get(template="vote_sms_reply")
    assert reply.context["outcome"] == "counted" and reply.language == "tl"
    assert "Do you authorise a strike" in messages.render(reply).body


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"question_vi": "x" * 301}, "question_vi", "at most 300 characters (it has 301)"),
        ({"options_vi": "Ca sáng\nCa chiều"}, "options_vi", "one line for each of the 3"),
        ({"options_ko": "a\nb\n" + "c" * 121}, "options_ko", "at most 120 characters"),
        ({"question_ar": "a\x07b"}, "question_ar", "Remove the special characters."),
    ],
)
def test_bad_words_in_another_language_are_refused_and_nothing_is_stored(
    client_as, net, overrides, field, error
):
    response = client_as(net.ana).post("/votes/new/boyle-heights/", form(**overrides))
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert f'id="id_{field}_errors"' in page and error in page
    assert '<details class="other-languages" open>' in page
    assert Vote.objects.count() == 0


def test_the_error_is_in_spanish_for_a_spanish_speaking_coordinator(client_as, net):
    client = client_as(net.ana)
    client.cookies["django_language"] = "es"
    page = client.post("/votes/new/boyle-heights/", form(options_vi="a\nb")).content.decode()
    assert "Vietnamita: opciones, una por línea" in page
    assert "escribe una línea por cada una de las 3 en inglés, o ninguna" in page
    assert Vote.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "translations", "english", "spanish"),
    [
        ("strike", {"xx": {"question": "?"}}, "does not speak the language “xx”", "“xx”"),
        ("strike", {"en": {"question": "?"}}, "have their own fields", "propios campos"),
        ("strike", {"vi": {"question": "x" * 301}}, "at most 300", "como mucho 300"),
        ("strike", {"vi": {"options": ["Có", "Không"]}}, "or none", "o ninguna"),
        ("options", {"vi": {"options": ["a", "b"]}}, "each of the 3", "las 3 en inglés"),
        ("options", {"vi": {"options": ["a", "", "c"]}}, "leave no line empty", "ninguna línea"),
        ("options", {"vi": {"options": "a"}}, "could not be read", "No se pudieron leer"),
    ],
)
def test_setting_up_refuses_bad_translations_whoever_calls_it(
    net, kind, translations, english, spanish
):
    options = OPTIONS if kind == "options" else []
    for language, expected in (("en", english), ("es", spanish)):
        with translation.override(language), pytest.raises(actions.VoteError) as refused:
            open_vote(net.boyle, net.ana, kind=kind, options=options, translations=translations)
        assert refused.value.code == "translations"
        assert expected in str(refused.value.message)
    assert Vote.objects.count() == 0
