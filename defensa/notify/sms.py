"""Inbound SMS keywords, honoured at once on every number: STOP / ALTO, START, HELP / AYUDA,
and their words in every language of the neighbourhood (WORDS).

Carriers require them. An opt-out is written before the reply is sent, and the worker checks
opt-outs again right before every send, so a queued message to that number never goes out.
Nothing else of an inbound message is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from defensa.accounts.models import User
from defensa.notify import actions, keywords
from defensa.notify.models import Channel

STOP, START, HELP = "stop", "start", "help"


@dataclass(frozen=True)
class Word:
    kind: str  # STOP, START or HELP
    # The languages the word belongs to, most likely first; () when many languages use it
    # (STOP, INFO): then it says nothing of the sender's language.
    languages: tuple[str, ...] = ()
    # A keyword only when it is the whole text. The words of the languages added after English
    # and Spanish are also ordinary words ("Hinto ang van ng ICE sa …" begins a report in
    # Tagalog, "Kanpe devan lekòl la" in Haitian Creole): alone they are a keyword, anywhere
    # else the text goes on to the apps and becomes a report.
    alone: bool = False


def _words(kind: str, words: dict[str, tuple[str, ...]], *, alone: bool = False) -> dict:  # type: ignore[type-arg]
    return {word: Word(kind, languages, alone) for word, languages in words.items()}


_ZH = ("zh-hans", "zh-hant")
# Words of one script or romanisation each; see notify/keywords.py for how marks are compared.
WORDS: dict[str, Word] = keywords.table(
    {
        # English and any language that borrows them; carriers require these.
        **_words(
            STOP, dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), ())
        ),
        **_words(START, dict.fromkeys(("START", "UNSTOP", "YES", "SUBSCRIBE"), ())),
        **_words(HELP, dict.fromkeys(("HELP", "INFO"), ())),
        # Spanish.
        **_words(STOP, dict.fromkeys(("ALTO", "PARAR", "BAJA"), ("es",))),
        **_words(START, dict.fromkeys(("INICIO", "ALTA"), ("es",))),
        **_words(HELP, {"AYUDA": ("es",)}),
        # The other languages of the neighbourhood: the word alone.
        **_words(
            STOP,
            {
                "停止": _ZH,
                "退订": ("zh-hans",),
                "退訂": ("zh-hant",),
                "중지": ("ko",),
                "정지": ("ko",),
                "수신거부": ("ko",),
                "HINTO": ("tl",),
                "TIGIL": ("tl",),
                # Marked: plain DUNG is also "đúng" (right, yes) typed without marks.
                "DỪNG": ("vi",),
                "HỦY": ("vi",),
                "ԴԱԴԱՐԵՑՆԵԼ": ("hy",),
                "توقف": ("ar",),
                "ايقاف": ("ar",),  # إيقاف, with or without its hamza
                "الغاء": ("ar",),  # إلغاء
                "KANPE": ("ht",),
                "SISPANN": ("ht",),
            },
            alone=True,
        ),
        **_words(
            START,
            {
                "开始": ("zh-hans",),
                "開始": ("zh-hant",),
                "订阅": ("zh-hans",),
                "訂閱": ("zh-hant",),
                "시작": ("ko",),
                "SIMULA": ("tl",),
                "ՍԿՍԵԼ": ("hy",),
                "ابدا": ("ar",),  # ابدأ
                "اشتراك": ("ar",),
                "KOMANSE": ("ht",),  # KÒMANSE
            },
            alone=True,
        ),
        **_words(
            HELP,
            {
                "帮助": ("zh-hans",),
                "幫助": ("zh-hant",),
                "도움말": ("ko",),
                "도움": ("ko",),
                "TULONG": ("tl",),
                "GIUP": ("vi",),  # GIÚP
                "ՕԳՆՈՒԹՅՈՒՆ": ("hy",),
                "مساعدة": ("ar",),
                "ED": ("ht",),  # ÈD
            },
            alone=True,
        ),
    }
)
STOP_WORDS = {word for word, found in WORDS.items() if found.kind == STOP}
START_WORDS = {word for word, found in WORDS.items() if found.kind == START}
HELP_WORDS = {word for word, found in WORDS.items() if found.kind == HELP}


@dataclass(frozen=True)
class KeywordReply:
    keyword: str  # "stop", "start", "help" or "" (not a keyword)
    reply: str
    language: str = ""  # the language the reply is written in


# A gateway cannot answer in its webhook's response (Twilio can): the reply is queued as this
# message instead, rendered at send time from the keyword alone.
REPLY_TEMPLATE = "sms_keyword_reply"
KEYWORDS = ("stop", "start", "help")


def site_languages() -> set[str]:
    """The languages the web pages speak (a member's chosen language is one of them)."""
    return {code for code, _name in settings.LANGUAGES}


def keyword_language(languages: tuple[str, ...], number: str) -> str:
    """The language to answer a keyword of these languages in, and to keep for the number.

    A keyword of no language of its own (STOP) answers in the language of the member with that
    number (the network's if none); so does a keyword of the member's own language (停止 from a
    reader of Traditional Chinese). A keyword of one language answers in it, and a member who
    sends one reads that language from then on (sms_language_set): their messages and pages
    follow, when the pages speak it.
    """
    digits = actions.normalize_address(Channel.SMS, number)
    person = User.objects.filter(phone=digits).only("pk", "language").first()
    if not languages or (person is not None and person.language in languages):
        return person.language if person else settings.LANGUAGE_CODE
    language = languages[0]
    if person is not None and language in site_languages():
        actions.set_language_by_text(person, language)
    return language


def keyword_reply(kind: str) -> str:
    """The answer to a keyword, in the active language."""
    name = settings.NETWORK_NAME
    if kind == "stop":
        return _("%(name)s: you will get no more text messages. Reply START to get them again.") % {
            "name": name
        }
    if kind == "start":
        return _("%(name)s: you will get text messages again. Reply STOP to stop.") % {"name": name}
    if settings.HOTLINE_NUMBER:
        return _(
            "%(name)s: alerts from your defense committee. Hotline: %(hotline)s. "
            "Reply STOP to stop."
        ) % {"name": name, "hotline": settings.HOTLINE_NUMBER}
    return _("%(name)s: alerts from your defense committee. Reply STOP to stop.") % {"name": name}


def reply_context(stored: dict[str, object]) -> dict[str, object]:
    """Context builder for REPLY_TEMPLATE (runs in the delivery's language)."""
    kind = stored.get("keyword")
    return {"reply": keyword_reply(kind) if kind in KEYWORDS else ""}  # type: ignore[arg-type]


def handle_inbound(number: str, body: str) -> KeywordReply:
    """Act on a keyword from `number`; return what to answer (empty if not a keyword)."""
    words = body.split()
    found = keywords.lookup(WORDS, words[0]) if words else None
    if found is None or (found.alone and len(words) > 1):
        return KeywordReply("", "")
    kind = found.kind
    if kind == STOP:
        actions.opt_out(Channel.SMS, number)
    elif kind == START:
        actions.opt_in(Channel.SMS, number)
    language = keyword_language(found.languages, number)
    with translation.override(language):
        reply = keyword_reply(kind)
    return KeywordReply(kind, reply, language)
