"""Keywords in every language of the neighbourhood, and the language they set for the replies."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext

from defensa.accounts.models import User
from defensa.audit.models import AuditEntry
from defensa.dispatch.sms import command
from defensa.events.sms import RSVP_WORDS
from defensa.notify import keywords, messages, sms
from defensa.notify.inbound import first_word
from defensa.notify.models import Delivery, OptOut
from defensa.notify.tests.test_twilio import inbound
from defensa.organising.sms import WORDS as ACTION_WORDS
from defensa.pledges.sms import PLEDGE_WORDS
from defensa.reports.models import Report
from defensa.subscribers.models import Subscription
from defensa.subscribers.tests.helpers import text
from defensa.trees.sms import is_confirmation
from defensa.votes.sms import YES, parse

NEIGHBOUR = "+13235550142"
ALL_TEN = [
    ("en", "English"),
    ("es", "Español"),
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
    ("ko", "한국어"),
    ("tl", "Tagalog"),
    ("vi", "Tiếng Việt"),
    ("hy", "Հայերեն"),
    ("ar", "العربية"),
    ("ht", "Kreyòl ayisyen"),
]


# How a word is compared ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("stop", "stop"),
        ("Alto!", "stop"),
        ("중지", "stop"),
        ("\u110c\u116e\u11bc\u110c\u1175", "stop"),  # 중지 typed as its letters (jamo)
        ("退订", "stop"),
        ("退訂。", "stop"),
        ("hinto", "stop"),
        ("Dừng", "stop"),
        ("hủy", "stop"),
        ("ԴԱԴԱՐԵՑՆԵԼ", "stop"),
        ("դադարեցնել", "stop"),  # Armenian has case
        ("إيقاف", "stop"),
        ("ايقاف", "stop"),  # without its hamza
        ("توقّف", "stop"),  # with a shadda
        ("kanpe", "stop"),
        ("ＳＴＯＰ", "stop"),  # full-width letters
        ("시작", "start"),
        ("kòmanse", "start"),
        ("komanse", "start"),
        ("도움말", "help"),
        ("帮助", "help"),
        ("giúp", "help"),
        ("GIUP", "help"),
        ("Èd", "help"),
        ("مساعدة", "help"),
        ("TULONG", "help"),
    ],
)
def test_each_languages_keywords_are_found_case_and_marks_aside(typed, kind):
    found = keywords.lookup(sms.WORDS, typed)
    assert found is not None and found.kind == kind


@pytest.mark.parametrize(
    "typed",
    [
        "DUNG",  # "đúng" (right, yes) typed without marks: never an opt-out
        "đúng",
        "dụng",
        "huy",  # a name as often as "hủy"
        "ok",
        "네",
        "是",
    ],
)
def test_a_word_that_is_also_an_ordinary_reply_is_no_keyword(typed):
    assert keywords.lookup(sms.WORDS, typed) is None


def test_the_new_languages_words_are_keywords_only_alone():
    assert sms.handle_inbound(NEIGHBOUR, "Hinto ang van ng ICE sa kanto").keyword == ""
    assert sms.handle_inbound(NEIGHBOUR, "Kanpe devan lekòl la, ICE la").keyword == ""
    assert sms.handle_inbound(NEIGHBOUR, "توقف باص قرب المدرسة").keyword == ""
    assert sms.handle_inbound(NEIGHBOUR, "Tulong! may ICE dito").keyword == ""


def test_the_apps_keywords_compare_the_same_way():
    assert keywords.lookup(ACTION_WORDS, first_word("acción K7Q2M")) == "es"
    assert keywords.lookup(ACTION_WORDS, first_word("accion K7Q2M")) == "es"
    assert keywords.lookup(ACTION_WORDS, first_word("행동 K7Q2M")) == "ko"
    assert keywords.lookup(PLEDGE_WORDS, first_word("pwomès K7Q2MX")) == "ht"
    assert keywords.lookup(RSVP_WORDS, first_word("سأحضر K7Q2MX")) == "ar"
    assert keywords.lookup(RSVP_WORDS, first_word("ساحضر K7Q2MX")) == "ar"
    assert keywords.lookup(YES, "Sí") == 1
    assert parse(["không"], "yes_no") == 2 and parse(["네"], "yes_no") == 1
    assert command("네") == command("Oo") == command("có") == command("نعم") == "accept"
    assert command("아니요") == command("Hindi.") == command("không") == command("لا") == "decline"
    assert command("hindi ko alam kung nasaan") == ""
    assert is_confirmation("收到") and is_confirmation("Wi") and not is_confirmation("收")


# The language of the replies ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_korean_stop_opts_out_and_is_answered_in_korean(client, net, twilio_peer):
    answer = sms.handle_inbound(NEIGHBOUR, "중지")
    assert answer.keyword == "stop" and answer.language == "ko"
    assert OptOut.objects.count() == 1
    with translation.override("ko"):
        expected = gettext(
            "%(name)s: you will get no more text messages. Reply START to get them again."
        ) % {"name": settings.NETWORK_NAME}
    assert answer.reply == expected


@pytest.mark.django_db
def test_a_korean_alert_subscription_gets_the_korean_reply(client, net, twilio_peer):
    response = text(client, "알림 90033", number=NEIGHBOUR)
    assert response.status_code == 200
    [sub] = Subscription.objects.all()
    assert (sub.zip_code, sub.language) == ("90033", "ko")
    assert Report.objects.count() == 0
    [reply] = Delivery.objects.filter(template="subscriber_reply")
    assert reply.language == "ko"
    with translation.override("ko"):
        expected = gettext(
            "%(network_name)s: you will get verified alerts near %(zip)s. Reply STOP to stop."
        ) % {"network_name": settings.NETWORK_NAME, "zip": "90033"}
    assert messages.render(reply).body.strip() == expected


@pytest.mark.django_db
def test_an_arabic_indic_zip_code_is_the_same_zip_code(client, net, twilio_peer):
    text(client, "تنبيه ٩٠٠٣٣", number=NEIGHBOUR)
    [sub] = Subscription.objects.all()
    assert (sub.zip_code, sub.language) == ("90033", "ar")


@pytest.mark.django_db
def test_a_members_keyword_of_one_language_becomes_their_language(
    client, net, settings, twilio_peer
):
    settings.LANGUAGES = ALL_TEN
    ana = net.ana  # reads English
    inbound(client, ana.phone, "도움말")
    ana.refresh_from_db()
    assert ana.language == "ko"
    [entry] = AuditEntry.objects.filter(action="notify.language_set_by_text")
    assert entry.data["language"] == "ko" and entry.data["before"] == "en"
    # STOP belongs to many languages: it answers in hers and changes nothing.
    answer = sms.handle_inbound(ana.phone, "STOP")
    assert answer.language == "ko"
    ana.refresh_from_db()
    assert ana.language == "ko"


@pytest.mark.django_db
def test_a_language_the_pages_do_not_speak_answers_but_leaves_the_members_choice(
    client, net, settings
):
    settings.LANGUAGES = [("en", "English"), ("es", "Español")]
    answer = sms.handle_inbound(net.ana.phone, "도움말")
    assert answer.language == "ko"
    net.ana.refresh_from_db()
    assert net.ana.language == "en"
    assert not AuditEntry.objects.filter(action="notify.language_set_by_text").exists()


@pytest.mark.skipif(
    connection.vendor != "sqlite" and User._meta.get_field("language").max_length < len("zh-hant"),
    reason="PostgreSQL holds the Chinese codes once the language columns are widened",
)
@pytest.mark.django_db
def test_a_word_of_both_chinese_scripts_keeps_a_traditional_readers_script(net, settings):
    settings.LANGUAGES = ALL_TEN
    net.ana.language = "zh-hant"
    net.ana.save()
    assert sms.handle_inbound(net.ana.phone, "停止").language == "zh-hant"
    net.ana.refresh_from_db()
    assert net.ana.language == "zh-hant"
