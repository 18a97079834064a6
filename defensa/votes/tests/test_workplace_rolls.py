"""Votes on a workplace roll: its members in good standing, its contacts if the vote says so
(their code by text to the sealed number, nothing revealed), and bad rolls refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from django.utils import timezone

from defensa.committees.models import Membership
from defensa.core.testing import sign_in
from defensa.notify.messages import render
from defensa.notify.models import Channel, Delivery
from defensa.organising import actions as organising
from defensa.organising.tests.helpers import contact, make_organiser, workplace
from defensa.votes import actions
from defensa.votes.forms import VoteForm
from defensa.votes.models import Ballot, Vote, Voter
from defensa.votes.tests.helpers import open_vote, text

pytestmark = pytest.mark.django_db

ROSA = "+13235550111"


@pytest.fixture
def plant(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    contact(place, olga, "Rosa", phone=ROSA, language="es")
    contact(place, olga, "Juan", phone="+13235550112")
    contact(place, olga, "Sin Teléfono")  # no number: no way to send a code
    for person in (net.mo, net.pat):  # pat is on probation: not in good standing
        organising.add_member(
            place,
            Membership.objects.get(user=person, committee=net.boyle),
            department="Kitchen",
            shift="Day",
            actor=olga,
        )
    return place


def test_a_workplace_roll_is_its_members_in_good_standing(net, plant):
    vote = open_vote(net.boyle, net.ana, workplace=plant)
    assert vote.roll_size == 1
    assert list(Voter.objects.filter(vote=vote).values_list("user_id", flat=True)) == [net.mo.pk]
    assert Ballot.objects.filter(vote=vote).count() == 1
    assert not Delivery.objects.filter(template="vote_code", recipient__isnull=True).exists()


def test_contacts_get_their_code_by_text_and_nothing_is_revealed(net, plant, twilio_peer):
    vote = open_vote(net.boyle, net.ana, workplace=plant, include_contacts=True)
    assert vote.roll_size == 3  # Mo, Rosa and Juan
    texts = list(Delivery.objects.filter(template="vote_code", recipient__isnull=True))
    assert len(texts) == 2
    assert {d.channel for d in texts} == {Channel.SMS}
    for delivery in texts:
        stored = str(model_to_dict(delivery)) + str(delivery.context)
        assert "5550111" not in stored and "5550112" not in stored
        assert delivery.address_hint == "•••"
        assert delivery.data_key_id == vote.data_key_id  # shredded with the vote's key
    rosa = next(d for d in texts if d.language == "es")
    code = actions.unseal_word(vote, rosa.context["sealed"], "code")
    assert code and code in render(rosa).body
    # Rosa votes by text from her number: counted once.
    text(Client(), f"VOTO {code} si", number=ROSA)
    assert Voter.objects.filter(vote=vote, voted=True).count() == 1
    assert Ballot.objects.filter(vote=vote, option__isnull=False).count() == 1
    # The coordinator sees the roll as a count, never the contacts' names or numbers.
    page = sign_in(Client(), net.ana).get(f"/votes/{vote.pk}/").content.decode()
    assert "3 people on the roll" in page
    for secret in ("Rosa", "Juan", "5550111"):
        assert secret not in page
    # The Helios roll carries accounts' addresses only: a contact has none to give.
    assert len(actions.helios_roll(vote)) == 1


def test_bad_workplace_rolls_are_refused_and_nothing_is_stored(net, plant):
    oscar = make_organiser("oscar", net.east)
    elsewhere = workplace(net.east, oscar, employer="East Mill")
    with pytest.raises(actions.VoteError) as caught:
        open_vote(net.boyle, net.ana, workplace=elsewhere)
    assert caught.value.code == "workplace"
    with pytest.raises(actions.VoteError) as caught:
        open_vote(net.boyle, net.ana, include_contacts=True)
    assert caught.value.code == "contacts"
    organising.end_campaign(plant, actor=net.ana)
    with pytest.raises(actions.VoteError):
        open_vote(net.boyle, net.ana, workplace=plant)
    assert Vote.objects.count() == 0 and Voter.objects.count() == 0


def test_the_form_offers_only_the_committees_workplaces(net, plant):
    oscar = make_organiser("oscar", net.east)
    elsewhere = workplace(net.east, oscar, employer="East Mill")
    day = (timezone.now() + dt.timedelta(days=2)).date().isoformat()
    base = {
        "kind": "yes_no",
        "question_en": "Strike?",
        "question_es": "¿Huelga?",
        "rule": "majority",
        "quorum": "0",
        "closes_date": day,
        "closes_time": "12:00",
    }
    bad = VoteForm({**base, "workplace": str(elsewhere.pk)}, committee=net.boyle)
    assert not bad.is_valid() and "workplace" in bad.errors
    lonely = VoteForm({**base, "include_contacts": "on"}, committee=net.boyle)
    assert not lonely.is_valid() and "include_contacts" in lonely.errors
    good = VoteForm(
        {**base, "workplace": str(plant.pk), "include_contacts": "on"}, committee=net.boyle
    )
    assert good.is_valid(), good.errors
    assert good.vote_data().workplace == plant and good.vote_data().include_contacts
