"""An organiser imports a CSV of 200 workers on a phone, in a real browser: upload, check the
columns, import, watch the progress, download the error report, export the contacts.

The organiser is signed in by handing the browser a testing.sign_in()'d session cookie."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client

from defensa.core.testing import sign_in
from defensa.imports.models import ImportJob, JobStatus
from defensa.imports.tasks import run_import_task
from defensa.organising.models import Worker
from defensa.organising.tests.helpers import contacts_csv, make_organiser, workplace

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def test_an_organiser_imports_a_csv_of_200_workers(  # type: ignore[no-untyped-def]
    transactional_db, net, browser, live_server, tmp_path
):
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    session = sign_in(Client(), olga)
    ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, accept_downloads=True)
    ctx.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = ctx.new_page()

    page.goto(f"/organising/workplaces/{place.pk}/")
    page.click("text=Import or export contacts")
    page.set_input_files(
        "#id_file",
        {
            "name": "trabajadores.csv",
            "mimeType": "text/csv",
            "buffer": contacts_csv(200, bad_every=20),
        },
    )
    page.click("text=Upload and check")
    page.wait_for_url(re.compile(r"/contacts/import/\d+/$"))
    assert page.input_value("#col-0") == "name"
    assert page.input_value("#col-1") == "phone"
    assert page.input_value("#col-5") == ""
    summary = page.inner_text("[role=status]")
    assert "200 rows: 190 new, 0 already recorded here, 10 cannot be imported." in summary
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click("text=Import 190 contacts")
    page.wait_for_selector("progress#progress")
    job = ImportJob.objects.get(kind="contacts")
    assert job.status == JobStatus.QUEUED

    run_import_task.call(job.pk)  # what the background worker does
    page.wait_for_selector("text=Finished", timeout=10_000)
    assert page.get_attribute("progress#progress", "value") == "100"
    assert "190 new, 0 already here, 10 not imported." in page.inner_text("[role=status]")
    assert Worker.objects.filter(workplace=place).count() == 190

    with page.expect_download() as info:
        page.click("text=Download the error report (CSV)")
    report = tmp_path / "errors.csv"
    info.value.save_as(report)
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 11
    assert {row[1] for row in rows[1:]} == {"The phone is not a number we can text."}

    page.goto(f"/organising/workplaces/{place.pk}/contacts/")
    with page.expect_download() as info:
        page.click("text=Download the contacts (CSV)")
    exported = tmp_path / "contacts.csv"
    info.value.save_as(exported)
    text = exported.read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 191
    assert "(213) 300" not in text and "+1213300" not in text
    ctx.close()
