"""Hotline languages and recordings in a real browser (Chromium, a phone's screen): a network
admin adds Mixtec to the hotline's language menu, uploads its menu recording (a real WAV made
by ffmpeg), sees it on the menu as heard in the committee's own voice, then removes it.

The admin is signed in by handing the browser a testing.sign_in()'d session cookie."""

from __future__ import annotations

import pytest
from django.test import Client

from defensa.core.testing import sign_in
from defensa.voice.models import VoiceLanguage, VoicePrompt
from defensa.voice.tests.test_prompts import sound

pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


def test_an_admin_records_a_language_for_the_hotline_menu(  # type: ignore[no-untyped-def]
    transactional_db, net, browser, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGES = [("en", "English"), ("es", "Español")]
    recording = tmp_path / "menu.wav"
    recording.write_bytes(sound(tmp_path, 2))
    session = sign_in(Client(), net.admin)
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, extra_http_headers={"Accept-Language": "en"}
    )
    context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    try:
        page.goto("/voice/languages/")
        assert page.locator("h1").inner_text() == "Hotline languages and recordings"
        assert "No recorded language yet." in page.inner_text("main")
        page.get_by_label("Code").fill("mix")
        page.get_by_label("Name in the language itself").fill("Tu'un savi")
        page.get_by_label("Menu key").fill("4")
        page.get_by_role("button", name="Add", exact=True).click()
        page.wait_for_url("**/voice/languages/*/")
        assert page.locator("h1").inner_text() == "Tu'un savi (mix)"
        # Not spoken by the provider's voice: on the menu only once its menu recording is in.
        assert "once its menu recording is uploaded" in page.inner_text("main")

        page.get_by_label("Step").select_option("menu")
        page.locator("input[name=recording]").set_input_files(str(recording))
        page.get_by_role("button", name="Upload").click()
        page.wait_for_load_state()
        assert "2.0 seconds" in page.locator("#step-menu").inner_text()
        assert VoicePrompt.objects.filter(language__code="mix", step="menu").exists()

        page.get_by_role("link", name="Hotline languages and recordings").click()
        row = page.locator("tr", has_text="Tu'un savi")
        assert row.locator("td").first.inner_text() == "4"
        assert "your recordings" in row.inner_text()
        assert "key 4, 1 recording" in page.inner_text("main")

        page.get_by_role("link", name="Tu'un savi").first.click()
        page.locator("#step-menu").get_by_role("button", name="Remove").click()
        page.wait_for_load_state()
        assert "none" in page.locator("#step-menu").inner_text()
        assert not VoicePrompt.objects.exists()
        page.get_by_role("button", name="Remove this language and its recordings").click()
        page.wait_for_url("**/voice/languages/")
        assert "No recorded language yet." in page.inner_text("main")
        assert not VoiceLanguage.objects.exists()
    finally:
        context.close()
