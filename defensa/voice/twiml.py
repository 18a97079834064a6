"""TwiML (Twilio's voice markup), built with ElementTree so every value is escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 (building, not parsing)

from django.conf import settings
from django.http import HttpResponse

# The voice each of our languages is spoken in, for the languages the provider's standard
# voice speaks. Mexican Spanish: most Spanish-speaking callers in the US will find it the most
# familiar. Every other language (Tagalog, Vietnamese, Armenian, Arabic, Haitian Creole on the
# standard voice; Mixtec, Zapotec, K'iche' anywhere) is heard from the network's own
# recordings (voice/prompts.py), never read aloud in an English voice.
SAY_LANGUAGE = {
    "en": "en-US",
    "es": "es-MX",
    "zh-hans": "zh-CN",
    "zh-hant": "zh-TW",
    "ko": "ko-KR",
}


class Response:
    def __init__(self) -> None:
        self.root = ET.Element("Response")

    def add(
        self, parent: ET.Element | None, tag: str, text: str = "", **attrs: object
    ) -> ET.Element:
        node = ET.SubElement(
            self.root if parent is None else parent,
            tag,
            {k: _attr(v) for k, v in attrs.items() if v is not None},
        )
        if text:
            node.text = text
        return node

    def say(self, text: str, language: str, parent: ET.Element | None = None) -> ET.Element:
        attrs: dict[str, object] = {"language": SAY_LANGUAGE.get(language, "en-US")}
        if settings.VOICE_TTS_VOICE:
            attrs["voice"] = settings.VOICE_TTS_VOICE
        return self.add(parent, "Say", text, **attrs)

    def play(self, url: str, parent: ET.Element | None = None) -> ET.Element:
        return self.add(parent, "Play", url)

    def http(self) -> HttpResponse:
        body = '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(self.root, encoding="unicode")
        return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _attr(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
