"""The optional reporter contact: encrypted at rest, shown only to the committee's dispatchers
and coordinators on request, each reveal audited (properties 4 and 14)."""

from __future__ import annotations

import re

import pytest

from defensa.audit.models import AuditEntry
from defensa.core import crypto
from defensa.core.crypto.fields import PlaintextRefused
from defensa.core.tests.canary import CANARY_NEEDLES, CANARY_PHONE, dump_database
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db
PHONE = CANARY_PHONE


def send_report(client, contact: str = PHONE):  # type: ignore[no-untyped-def]
    html = client.get("/report/new/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    response = client.post(
        "/report/new/",
        {
            "token": token,
            "category": "workplace_raid",
            "location_text": "Soto and 1st",
            "zip_code": "90033",
            "contact": contact,
        },
    )
    assert response.status_code == 200, response.content.decode()[:500]
    return Report.objects.get()


def test_the_form_offers_an_optional_contact_and_says_how_it_is_kept(client, db):
    html = client.get("/report/new/").content.decode()
    assert 'name="contact"' in html
    assert "stored encrypted" in html
    es = client.get("/report/new/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "cifrado" in es


def test_contact_is_stored_only_encrypted(client, net):
    report = send_report(client)
    assert report.data_key is not None and report.contact is not None
    assert PHONE.encode() not in report.contact
    assert crypto.unseal(report, "contact") == PHONE
    dump = "\n".join(dump_database().values())
    assert [n for n in CANARY_NEEDLES if n in dump] == []


def test_no_contact_makes_no_key(client, net):
    report = send_report(client, contact="")
    assert report.contact is None and report.data_key is None


def test_plaintext_cannot_be_saved_into_the_column(client, net):
    report = send_report(client)
    report.contact = PHONE.encode()
    with pytest.raises(PlaintextRefused):
        report.save()


def test_ciphertext_moved_to_another_report_does_not_open(client, net):
    first = send_report(client)
    Report.objects.all().delete()  # keep one row at a time for send_report's get()
    second = send_report(client, contact="someone@example.org")
    second.contact, second.data_key = first.contact, first.data_key
    with pytest.raises(crypto.WrongKey):
        crypto.unseal(second, "contact")


def test_dispatcher_sees_a_button_not_the_number_then_reveals_it(client, client_as, net):
    report = send_report(client)
    page = client_as(net.dani).get(f"/dispatch/boyle-heights/?incident={report.incident_id}")
    html = page.content.decode()
    assert f"/reports/{report.reference}/contact/" in html
    assert PHONE not in html
    revealed = client_as(net.dani).post(f"/reports/{report.reference}/contact/")
    assert revealed.status_code == 200
    assert PHONE in revealed.content.decode()
    assert (
        revealed["Cache-Control"].startswith("max-age=0") or "no-store" in revealed["Cache-Control"]
    )
    entry = AuditEntry.objects.filter(action="reports.contact_revealed").get()
    assert entry.actor_id == net.dani.pk
    assert PHONE not in str(entry.data)


def test_the_committees_coordinator_may_reveal_too(client, client_as, net):
    report = send_report(client)
    assert (
        PHONE in client_as(net.ana).post(f"/reports/{report.reference}/contact/").content.decode()
    )


@pytest.mark.parametrize("who", ["mo", "pat", "vero", "lucia", "omar"])
def test_everyone_else_gets_404(client, client_as, net, who):
    report = send_report(client)
    response = client_as(getattr(net, who)).post(f"/reports/{report.reference}/contact/")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="reports.contact_revealed").exists()


def test_anonymous_and_get_are_refused(client, net):
    report = send_report(client)
    assert client.post(f"/reports/{report.reference}/contact/").status_code in (302, 404)
    assert client.get(f"/reports/{report.reference}/contact/").status_code == 405


def test_reveals_are_rate_limited_and_the_refusal_audited(client, client_as, net, settings):
    from defensa.audit.reveals import RevealQuota, record_reveal

    settings.PHONE_REVEALS_PER_HOUR = 1
    report = send_report(client)
    c = client_as(net.dani)
    assert c.post(f"/reports/{report.reference}/contact/").status_code == 200
    # The one quota counts records opened: the same contact again is audited, not counted.
    assert c.post(f"/reports/{report.reference}/contact/").status_code == 200
    assert AuditEntry.objects.filter(action="reports.contact_revealed").count() == 2
    with pytest.raises(RevealQuota):
        record_reveal("member.phone", actor=net.dani, obj=net.mo)
    # Ana used her hour on another record: this contact stays sealed for her.
    record_reveal("member.phone", actor=net.ana, obj=net.mo)
    refused = client_as(net.ana).post(f"/reports/{report.reference}/contact/")
    assert refused.status_code == 429 and PHONE not in refused.content.decode()
    assert AuditEntry.objects.filter(action="reports.contact_reveal_refused").count() == 1


def test_operator_types_the_callers_number(client_as, net):
    c = client_as(net.dani)
    html = c.get("/hotline/new/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    data = {"category": "sighting", "zip_code": "90033", "language": "es", "token": token}
    c.post("/hotline/new/", {**data, "contact": PHONE})
    report = Report.objects.get()
    assert crypto.unseal(report, "contact") == PHONE
