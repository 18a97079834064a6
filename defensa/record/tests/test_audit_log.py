"""The audit-log viewer: network administrators only, entries as stored (ids and action names,
never the entry's data), filtered by action prefix, dates and actor."""

from __future__ import annotations

import datetime as dt

import pytest

from defensa.audit.log import record
from defensa.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/audit-log/"


@pytest.fixture
def entries(net):  # type: ignore[no-untyped-def]
    record("member.roles_changed", actor=net.ana, committee=net.boyle.pk, secretword="zx9q7")
    record("reports.received", actor=None, channel="web")
    record("reports.contact_revealed", actor=net.dani, committee=net.boyle.pk)
    return AuditEntry.objects.order_by("seq")


def rows(html: str) -> list[str]:
    return [
        a
        for a in ("member.roles_changed", "reports.received", "reports.contact_revealed")
        if f"<code>{a}</code>" in html
    ]


def test_only_network_admins(client_as, net, entries):
    for person in (net.ana, net.dani, net.lucia, net.omar, net.vero, net.pat):
        assert client_as(person).get(URL).status_code == 404, person.display_name
    assert client_as(net.admin).get(URL).status_code == 200


def test_ids_and_action_names_only(client_as, net, entries):
    html = client_as(net.admin).get(URL).content.decode()
    assert rows(html) == ["member.roles_changed", "reports.received", "reports.contact_revealed"]
    assert f"<td>{net.ana.pk}</td>" in html
    assert "zx9q7" not in html  # the entry's data is not shown
    assert net.ana.display_name not in html and net.ana.email not in html


def test_filters(client_as, net, entries):
    client = client_as(net.admin)
    assert rows(client.get(URL, {"action": "reports."}).content.decode()) == [
        "reports.received",
        "reports.contact_revealed",
    ]
    html = client.get(URL, {"actor": net.dani.pk}).content.decode()
    assert rows(html) == ["reports.contact_revealed"]
    today = dt.datetime.now(dt.UTC).date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert rows(client.get(URL, {"since": tomorrow}).content.decode()) == []
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    html = client.get(URL, {"since": yesterday, "until": tomorrow}).content.decode()
    assert len(rows(html)) == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "reports.%"}, "Letters, digits, dots, colons, dashes and underscores only."),
        ({"actor": "ana"}, "Enter a whole number."),
        ({"actor": "-1"}, "Ensure this value is greater than or equal to 1."),
        ({"since": "2026-12-05", "until": "2026-12-01"}, "The start date is after the end date."),
    ],
)
def test_bad_filters_get_a_clear_error(client_as, net, entries, params, message):
    response = client_as(net.admin).get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_pages_of_fifty(client_as, net, entries):
    for n in range(60):
        record("test.filler", n=n)
    client = client_as(net.admin)
    first = client.get(URL).content.decode()
    assert first.count("<code>test.filler</code>") == 50
    second = client.get(URL, {"page": 2}).content.decode()
    assert second.count("<code>test.filler</code>") == 10
    assert len(rows(second)) == 3
