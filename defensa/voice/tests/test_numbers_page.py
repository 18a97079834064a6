"""The numbers page: network admins map phone numbers to committees in the browser; calls and
texts to a number then belong to its committee."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.reports.routing import committee_owning
from defensa.voice import actions
from defensa.voice.models import Hotline, Voicemail

pytestmark = pytest.mark.django_db


def test_an_admin_maps_a_number_and_texts_to_it_find_the_committee(client_as, net):
    client = client_as(net.admin)
    response = client.post(
        reverse("voice:numbers"),
        {"number": "(213) 555-0150", "committee": net.east.pk, "fallback": "323 555 0199"},
    )
    assert response.status_code == 302
    hotline = Hotline.objects.get()
    assert hotline.number == "+12135550150" and hotline.committee == net.east
    assert hotline.fallback_numbers == ["+13235550199"]
    assert committee_owning("+12135550150") == net.east
    assert AuditEntry.objects.filter(action="voice.hotline_set").count() == 1
    page = client.get(reverse("voice:numbers")).content.decode()
    assert "+12135550150" in page and net.east.name in page
    # Moving it to another committee is one more save, said as a move.
    response = client.post(
        reverse("voice:numbers"), {"number": "+12135550150", "committee": net.boyle.pk}, follow=True
    )
    assert "moved from" in response.content.decode()
    assert committee_owning("+12135550150") == net.boyle
    assert Hotline.objects.count() == 1


@pytest.mark.parametrize(
    ("number", "fallback", "error"),
    [
        ("hello", "", "This is not a phone number."),
        ("", "", "This field is required."),
        ("555-01", "", "This is not a phone number."),
        ("+12135550150", "12, +13235550199", "12 is not a phone number."),
        ("+12135550150", "\n".join(f"+1323555{i:04d}" for i in range(11)), "At most 10"),
    ],
)
def test_bad_numbers_are_refused_and_change_nothing(client_as, net, number, fallback, error):
    client = client_as(net.admin)
    response = client.post(
        reverse("voice:numbers"), {"number": number, "committee": net.east.pk, "fallback": fallback}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Hotline.objects.exists()
    assert not AuditEntry.objects.filter(action="voice.hotline_set").exists()


def test_an_unknown_committee_is_refused(client_as, net):
    response = client_as(net.admin).post(
        reverse("voice:numbers"), {"number": "+12135550150", "committee": 999999}
    )
    assert response.status_code == 400 and not Hotline.objects.exists()


def test_removing_a_number_and_refusing_while_it_holds_voicemails(client_as, net):
    client = client_as(net.admin)
    hotline = actions.set_hotline(net.east, "+12135550150")
    kept = actions.set_hotline(net.boyle, "+12135550151")
    Voicemail.objects.create(hotline=kept, call_key="k" * 64)
    response = client.post(reverse("voice:remove_number", args=[kept.pk]), follow=True)
    assert "still holds voicemails" in response.content.decode()
    assert Hotline.objects.filter(pk=kept.pk).exists()
    client.post(reverse("voice:remove_number", args=[hotline.pk]))
    assert not Hotline.objects.filter(pk=hotline.pk).exists()
    assert AuditEntry.objects.filter(action="voice.hotline_removed").count() == 1
    assert client.post(reverse("voice:remove_number", args=[hotline.pk])).status_code == 404


@pytest.mark.parametrize("who", ["ana", "dani", "pat", "lucia"])
def test_only_network_admins(client_as, net, who):
    hotline = actions.set_hotline(net.boyle, "+12135550151")
    client = client_as(getattr(net, who))
    assert client.get(reverse("voice:numbers")).status_code == 404
    response = client.post(
        reverse("voice:numbers"), {"number": "+12135550150", "committee": net.boyle.pk}
    )
    assert response.status_code == 404
    assert client.post(reverse("voice:remove_number", args=[hotline.pk])).status_code == 404
    assert Hotline.objects.count() == 1


FUZZ = hsettings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any text a browser could send (lone surrogates cannot be encoded by any client).
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80)
_nasty = st.one_of(
    _text, st.sampled_from(["", "\x00", "+", "+0", "9" * 40, "٢١٣٥٥٥٠١٥٠", "+1 (213) 555-0150"])
)


@FUZZ
@given(number=_nasty, committee=st.one_of(_nasty, st.just("EAST")), fallback=_nasty)
def test_any_input_is_saved_whole_or_refused_never_a_500(
    client_as, net, number, committee, fallback
):
    client = client_as(net.admin)
    with transaction.atomic():
        response = client.post(
            reverse("voice:numbers"),
            {
                "number": number,
                "committee": net.east.pk if committee == "EAST" else committee,
                "fallback": fallback,
            },
        )
        assert response.status_code in (302, 400)
        saved = list(Hotline.objects.all())
        if response.status_code == 400:
            assert saved == [] and b"errorlist" in response.content
        else:
            [hotline] = saved
            assert hotline.number.startswith("+") and hotline.number[1:].isdigit()
            assert all(n.startswith("+") for n in hotline.fallback_numbers)
        transaction.set_rollback(True)


def test_fallback_members_stay_with_the_committee_not_with_the_number(client_as, net):
    actions.set_hotline(net.boyle, "+12135550150", fallback_members=[net.ana])
    client = client_as(net.admin)
    client.post(reverse("voice:numbers"), {"number": "+12135550150", "committee": net.boyle.pk})
    assert list(Hotline.objects.get().fallback_members.all()) == [net.ana]
    client.post(reverse("voice:numbers"), {"number": "+12135550150", "committee": net.east.pk})
    assert list(Hotline.objects.get().fallback_members.all()) == []
    moved = AuditEntry.objects.filter(action="voice.hotline_set").order_by("id").last()
    assert moved.data["moved_from"] == net.boyle.pk


def test_a_number_of_an_archived_committee_says_so(client_as, net):
    actions.set_hotline(net.east, "+12135550150")
    net.east.archived_at = net.east.created_at
    net.east.save(update_fields=["archived_at"])
    page = client_as(net.admin).get(reverse("voice:numbers")).content.decode()
    assert "archived: move this number" in page
    # And an archived committee is no choice for a number.
    assert f'<option value="{net.east.pk}"' not in page
