"""The strike vote in a real browser: the coordinator sets it up, each voter gets a code by
email, one votes by text in Spanish, two on the web (one on a phone); quorum is met; the
result shows only after the close, and a voter confirms with their receipt that their ballot
was counted.

People are signed in by handing the browser a testing.sign_in()'d session cookie."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from defensa.core.testing import sign_in
from defensa.notify.tests.helpers import run_worker
from defensa.votes.models import Vote
from defensa.votes.tests.helpers import run_tasks, text

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
CODE = re.compile(r"(?:code|uso): ([A-Z2-9]{10})")


def test_strike_vote_journey(transactional_db, net, browser, live_server, twilio_peer, smtp_server):  # type: ignore[no-untyped-def]
    # 1. The coordinator sets up a strike authorisation: two-thirds, quorum 60%.
    session = sign_in(Client(), net.ana)
    desk_ctx = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}
    )
    desk_ctx.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    desk = desk_ctx.new_page()
    desk.goto(f"/votes/new/{net.boyle.slug}/")
    desk.check("input[name=kind][value=strike]")
    desk.fill("#id_question_en", "Do you authorise a strike from Monday?")
    desk.fill("#id_question_es", "¿Autorizas una huelga desde el lunes?")
    desk.check("input[name=rule][value=two_thirds]")
    desk.fill("#id_quorum", "60")
    tomorrow = timezone.localtime(timezone.now() + timezone.timedelta(days=1), net.boyle.tz)
    desk.fill("#id_closes_date", tomorrow.date().isoformat())
    desk.fill("#id_closes_time", "18:00")
    desk.click("button.primary")
    desk.wait_for_selector("text=Opening now")
    run_tasks()  # the background worker freezes the roll and queues the codes
    desk.reload()
    desk.wait_for_selector("text=5 people on the roll")
    vote = Vote.objects.get()

    # 2. Every voter's code goes out by email (their channel).
    run_worker()
    codes = {m.rcpt[0]: CODE.search(m.body).group(1) for m in smtp_server.messages}
    assert len(codes) == 5

    # 3. Dani votes by text, in Spanish, and gets a receipt back.
    text(Client(), f"VOTO {codes['dani@example.org']} SI", number="+12135550102")
    run_worker()
    reply = next(m.body for m in twilio_peer.messages if m.to == "+12135550102")
    assert "cuenta" in reply and "Recibo" in reply

    # 4. Mo votes on a phone, in Spanish; Vero on the web; the results stay hidden.
    phone_ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="es-ES")
    phone = phone_ctx.new_page()
    phone.goto(f"/votes/v/{vote.code}/")
    assert "Resultado" not in phone.content()
    phone.fill("#id_code", codes["mo@example.org"].lower())
    phone.check("input[name=choice][value='1']")
    phone.click("button.primary.big")
    phone.wait_for_selector(".receipt")
    receipt = phone.inner_text(".receipt")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    web = desk_ctx.new_page()
    web.goto(f"/votes/v/{vote.code}/")
    web.fill("#id_code", codes["vero@example.org"])
    web.check("input[name=choice][value='2']")
    web.click("button.primary.big")
    web.wait_for_selector(".receipt")

    # 5. The coordinator sees turnout, not results; closes; the result shows.
    desk.goto(f"/votes/{vote.pk}/")
    assert "3 have voted" in desk.content() and "<h2>Result</h2>" not in desk.content()
    desk.click("text=Close the vote now and count")
    desk.wait_for_selector("text=Quorum met.")
    assert "Passed" in desk.content()  # 2 of 3 ballots: two-thirds exactly

    # 6. Mo checks the receipt on the vote's page.
    phone.goto(f"/votes/v/{vote.code}/")
    assert "Resultado" in phone.content()
    phone.fill("#id_receipt", receipt)
    phone.click("form button.btn >> nth=-1")
    phone.wait_for_selector(".msg")
    assert "fue contada" in phone.inner_text(".messages")
    phone_ctx.close()
    desk_ctx.close()
