"""The readiness checklist: what a network still needs before it can take a real report, each
line with where it is fixed; network admins only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from defensa.accounts.models import Passkey, Skill, SkillKind
from defensa.committees.models import Committee, Membership, Shift
from defensa.core import testing
from defensa.ops import readiness
from defensa.voice.actions import set_hotline

pytestmark = pytest.mark.django_db


def lines() -> dict[str, readiness.Line]:
    return {line.key: line for line in readiness.checklist(None)}


@pytest.fixture
def ready(net, settings, twilio_peer, tmp_path):  # type: ignore[no-untyped-def]
    """The test network made ready: every line done."""
    settings.EMAIL_HOST = "smtp.example.org"
    settings.BACKUP_RECIPIENTS = ["age1" + "q" * 58]
    key_file = tmp_path / "keys" / "master"
    settings.MASTER_KEYS = "k1:" + "A" * 43 + "="
    settings.MASTER_KEYS_SOURCE = str(key_file)
    net.city.zip_codes = ["90033", "90022", "90063"]
    net.city.save()
    for committee in (net.boyle, net.east, net.network):
        member = testing.make_user(f"d-{committee.slug}")
        membership = testing.join(member, committee, is_dispatcher=True)
        Shift.objects.create(membership=membership, weekday=0, start=dt.time(8), end=dt.time(16))
        Skill.objects.create(user=member, kind=SkillKind.VERIFIER)
    set_hotline(net.boyle, "+12135550150")
    Passkey.objects.create(user=net.admin, credential_id=b"cred", public_key=b"pk")
    return net


def test_a_ready_network_has_nothing_left(ready):
    found = lines()
    assert [key for key, line in found.items() if not line.ok and not line.optional] == []
    assert readiness.left_to_do(list(found.values())) == 0


def test_the_test_network_as_built_lacks_what_a_new_network_lacks(net, settings):
    settings.BACKUP_RECIPIENTS = []
    settings.MASTER_KEYS = ""
    settings.NOTIFY_CONSOLE = True
    settings.TWILIO_ACCOUNT_SID = ""
    settings.EMAIL_HOST = ""
    found = lines()
    # dani dispatches Boyle Heights but has no shift and is not on duty.
    assert not found["dispatchers"].ok
    assert any("Boyle Heights" in m for m in found["dispatchers"].missing)
    assert any("East LA" in m for m in found["verifiers"].missing)
    assert not found["channel-sms"].ok and "server's log" in found["channel-sms"].missing[0]
    assert not found["numbers"].ok and not found["backup"].ok
    assert not found["master_key"].ok and not found["passkey"].ok
    assert found["channel-signal"].optional and not found["channel-sms"].optional


def test_each_line_turns_done_when_its_fix_is_made(ready, settings):
    ready.boyle.zip_codes = []
    ready.boyle.save()
    areas = lines()["areas"]
    assert not areas.ok and "Boyle Heights has no ZIP codes or cells." in areas.missing
    assert [link.url for link in areas.links] == [
        reverse("network:area", args=["boyle-heights"]),
        reverse("network:index"),
    ]
    ready.boyle.zip_codes = ["90033"]
    ready.boyle.save()
    ready.city.zip_codes = ["90033", "90022", "90063", "90012"]
    ready.city.save()
    areas = lines()["areas"]
    assert not areas.ok and "90012" in areas.missing[0]
    settings.MASTER_KEYS_SOURCE = str(settings.DATA_DIR / "master")
    assert not lines()["master_key"].ok


def test_an_expired_verifier_skill_is_no_verifier(ready):
    Skill.objects.filter(user__email__startswith="d-boyle").update(expires_on=dt.date(2020, 1, 1))
    verify = lines()["verifiers"]
    assert not verify.ok
    assert verify.missing[0] == "Boyle Heights: no verifier on duty or on a weekly shift."
    # The link goes where the viewer can fix it: the members page, for its coordinator.
    [link] = {line.key: line for line in readiness.checklist(ready.ana)}["verifiers"].links
    assert link.url == reverse("committees:members", args=["boyle-heights"])


def test_the_page_links_every_missing_line_to_its_fix(client_as, net, settings):
    settings.BACKUP_RECIPIENTS = []
    page = client_as(net.admin).get(reverse("ops:readiness")).content.decode()
    assert "things are still needed before this network can take a real report" in page
    for url in (
        reverse("notify:channels"),
        reverse("voice:numbers"),
        reverse("accounts:security"),
        # The admin coordinates no committee: the committee's page in the network's set-up.
        reverse("network:committee", args=["boyle-heights"]),
    ):
        assert f'href="{url}"' in page
    assert "DEFENSA_BACKUP_RECIPIENTS" in page


def test_the_admins_home_links_the_checklist(client_as, net):
    page = client_as(net.admin).get(reverse("accounts:home")).content.decode()
    assert f'href="{reverse("ops:readiness")}"' in page
    assert "things still needed before a real report" in page


def test_spanish(client_as, net):
    net.admin.language = "es"
    net.admin.save()
    page = client_as(net.admin).get(reverse("ops:readiness"), HTTP_ACCEPT_LANGUAGE="es")
    assert "Preparación" in page.content.decode()


@pytest.mark.parametrize("who", ["ana", "dani", "omar", "pat"])
def test_only_network_admins(client_as, net, who):
    assert client_as(getattr(net, who)).get(reverse("ops:readiness")).status_code == 404


def test_archived_committees_are_not_counted(ready):
    ready.east.archived_at = ready.east.created_at
    ready.east.zip_codes = []
    ready.east.save()
    Membership.objects.filter(committee=ready.east).delete()
    found = lines()
    assert found["dispatchers"].ok and found["verifiers"].ok


def test_the_checklist_costs_the_same_for_many_committees(net):
    def count() -> int:
        with CaptureQueriesContext(connection) as seen:
            readiness.checklist(net.admin)
        return len(seen)

    few = count()
    for i in range(20):
        Committee.objects.create(name=f"Local {i}", slug=f"local-{i}", parent=net.city)
    assert count() == few


def test_texts_coming_in_need_the_webhook_address(ready, settings, client_as):
    assert lines()["inbound"].ok
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    inbound = lines()["inbound"]
    assert not inbound.ok and inbound.setting == "TWILIO_WEBHOOK_BASE_URL"
    page = client_as(ready.admin).get(reverse("notify:channels")).content.decode()
    assert "do not reach this server yet" in page
    settings.SMS_GATEWAY_WEBHOOK_TOKEN = "a-secret-path-token"
    assert lines()["inbound"].ok
