"""What the hotline says, step by step: a recording in the caller's language when the network
uploaded one, else the provider's text-to-speech, and only in a language it speaks.

The language menu offers the site's languages the provider speaks (twiml.SAY_LANGUAGE) and
every recorded language (VoiceLanguage) that has its menu recording, each on its own key: a
recorded language on the key its admin chose, the others on the lowest keys left (1-9, then
0). A recorded language that the provider also speaks (Spanish in a volunteer's voice) takes
its place.

Recordings are never public. The TwiML's <Play> names each at a link signed with the
server's key, naming the recording and its hash, that expires after LINK_SECONDS; anything
else gets 403, like a webhook with a bad signature.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from defensa.voice.models import Step, VoiceLanguage, VoicePrompt
from defensa.voice.twiml import SAY_LANGUAGE
from defensa.voice.webhooks import absolute

DIGITS = "1234567890"
LINK_SECONDS = 15 * 60  # a call's menu, its ringing and its voicemail fit well within it
_SALT = "defensa.voice.prompt"


@dataclass(frozen=True)
class Choice:
    digit: str
    code: str
    recorded: VoiceLanguage | None  # None: spoken by the provider


def spoken_languages() -> list[str]:
    """The site's languages the provider's text-to-speech speaks, in the site's order."""
    return [code for code, _name in settings.LANGUAGES if code in SAY_LANGUAGE]


def menu() -> list[Choice]:
    """The language menu, in key order."""
    languages = list(VoiceLanguage.objects.all())
    with_menu = set(
        VoicePrompt.objects.filter(step=Step.MENU).values_list("language_id", flat=True)
    )
    spoken = spoken_languages()
    recorded = [lang for lang in languages if lang.pk in with_menu or lang.code in spoken]
    taken = {lang.digit for lang in recorded}
    codes = {lang.code for lang in recorded}
    free = iter(d for d in DIGITS if d not in taken)
    choices = [Choice(lang.digit, lang.code, lang) for lang in recorded]
    for code in spoken:
        if code in codes:
            continue
        digit = next(free, None)
        if digit is None:
            break  # ten keys: the site's later languages wait for a recorded one to go
        choices.append(Choice(digit, code, None))
    return sorted(choices, key=lambda choice: DIGITS.index(choice.digit))


def menu_codes() -> set[str]:
    return {choice.code for choice in menu()}


def prompts_for(language: str) -> dict[str, VoicePrompt]:
    """The recordings of one language, by step."""
    return {
        prompt.step: prompt
        for prompt in VoicePrompt.objects.filter(language__code=language).select_related("language")
    }


def language_name(code: str) -> str:
    """A recorded language's name in itself, for the operator's screening prompt; else ""."""
    found = VoiceLanguage.objects.filter(code=code).values_list("name", flat=True).first()
    return found or ""


def link(prompt: VoicePrompt) -> str:
    """The provider's signed, expiring link to the recording."""
    token = signing.dumps([prompt.pk, prompt.sha256[:16]], salt=_SALT, compress=False)
    return absolute("voice:prompt_audio", t=token)


def from_token(token: str) -> VoicePrompt | None:
    """The recording a link names, while it is valid and the recording unchanged; else None."""
    try:
        pk, digest = signing.loads(token, salt=_SALT, max_age=LINK_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(pk, int) or not isinstance(digest, str):
        return None
    found = VoicePrompt.objects.filter(pk=pk).first()
    if found is None or found.sha256[:16] != digest:
        return None
    return found
