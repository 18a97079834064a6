"""The people journeys in a real browser: a coordinator imports a 500-row spreadsheet with
errors, keeps the suggested columns, confirms, watches the progress bar and downloads the
error report; then invites 50 people by SMS through the local Twilio-speaking peer and one of
them opens their link on a phone.

The coordinator is signed in by handing the browser a testing.sign_in()'d session cookie.
The background import is run by the test, as the worker process would."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client

from defensa.core.testing import sign_in
from defensa.imports import actions as imports
from defensa.imports.models import ImportJob, JobStatus
from defensa.imports.tasks import run_import_task
from defensa.notify.tests.helpers import run_worker
from defensa.people.models import Invitee
from defensa.people.rows import KIND
from defensa.testing.spreadsheets import member_csv

pytestmark = [pytest.mark.browser]

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def _desk(browser, live_server, user):  # type: ignore[no-untyped-def]
    session = sign_in(Client(), user)
    context = browser.new_context(base_url=live_server.url, viewport=DESK)
    context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_import_500_rows_with_errors(transactional_db, net, browser, live_server, tmp_path):  # type: ignore[no-untyped-def]
    context = _desk(browser, live_server, net.ana)
    page = context.new_page()
    page.goto("/committees/boyle-heights/people/")
    page.set_input_files(
        "#id_file",
        {
            "name": "voluntarios.csv",
            "mimeType": "text/csv",
            "buffer": member_csv(500, invalid_every=10),
        },
    )
    page.click("text=Upload and check")
    page.wait_for_url(re.compile(r"/people/import/\d+/$"))
    # The columns were recognised; we fix nothing.
    assert page.input_value("#col-0") == "name"
    assert page.input_value("#col-1") == "phone"
    assert page.input_value("#col-5") == ""
    summary = page.inner_text("[role=status]")
    assert "500 rows: 450 new, 0 already members or on the list, 50 cannot be imported." in summary
    page.click("text=Import 450 people")
    page.wait_for_selector("progress#progress")
    assert "Waiting to start" in page.content()
    job = ImportJob.objects.get()
    assert job.status == JobStatus.QUEUED

    run_import_task.call(job.pk)  # what the worker does
    # The page refreshes itself (no script needed) and shows the end.
    page.wait_for_selector("text=Finished", timeout=10_000)
    assert page.get_attribute("progress#progress", "value") == "100"
    assert "450 new, 0 already here, 50 not imported." in page.inner_text("[role=status]")
    assert Invitee.objects.count() == 450

    with page.expect_download() as info:
        page.click("text=Download the error report (CSV)")
    report = tmp_path / "errors.csv"
    info.value.save_as(report)
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["line", "why it was not imported"]
    assert len(rows) == 51
    reasons = {row[1] for row in rows[1:]}
    assert reasons == {
        "The phone is not a number we can text.",
        "The ZIP code does not exist.",
        "A phone or an email is needed to invite them.",
    }
    context.close()


def test_invite_50_by_sms(transactional_db, net, browser, live_server, twilio_peer, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    job = imports.upload_import(KIND, net.boyle.pk, [member_csv(50)], actor=net.ana)
    imports.confirm_import(job, rows=50, actor=net.ana)
    run_import_task.call(job.pk)

    context = _desk(browser, live_server, net.ana)
    page = context.new_page()
    page.goto(f"/committees/boyle-heights/people/import/{job.pk}/")
    page.click("text=Invite the people of this import")
    page.check("input[name=channel][value=sms]")
    page.check("input[name=who][value=new]")
    page.click("button:has-text('Send invitations')")
    page.wait_for_selector("progress#sending")
    assert "50 invitations are on their way." in page.content()
    assert "0 sent · 0 failed · 50 waiting" in page.content()

    run_worker()
    assert len(twilio_peer.messages) == 50
    bodies = {m.to: m.body for m in twilio_peer.messages}
    assert "te invita a unirte" in bodies["+12132000001"]  # Persona 1 speaks Spanish
    assert "invites you to join" in bodies["+12132000000"]
    links = {re.search(r"(https?://\S+/join/\S+/)", body).group(1) for body in bodies.values()}  # type: ignore[union-attr]
    assert len(links) == 50

    page.reload()
    assert "50 sent · 0 failed · 0 waiting" in page.content()
    assert "On the list: 50 · invited: 50 · joined: 0" in page.content()

    # One of them opens their own link on a phone.
    phone_ctx = browser.new_context(viewport=PHONE, locale="es-ES")
    phone = phone_ctx.new_page()
    response = phone.goto(re.search(r"(https?://\S+/join/\S+/)", bodies["+12132000001"]).group(1))  # type: ignore[union-attr]
    assert response is not None and response.status == 200
    assert phone.locator("form").count() >= 1
    phone_ctx.close()
    context.close()
