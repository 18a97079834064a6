"""Bad input never makes a 500 or a partial row: ballot texts, ballot pages, the vote form."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.core.testing import sign_in
from defensa.votes.models import Ballot, Vote, Voter
from defensa.votes.tests.helpers import open_vote, text
from defensa.votes.views import ballot_gate

pytestmark = pytest.mark.django_db

FUZZ = hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(rest=st.text(max_size=80))
def test_any_text_after_the_keyword_is_answered_without_a_crash(net, rest):
    vote = open_vote(net.boyle, net.ana)
    response = text(Client(), f"VOTE {rest}", number="+13235550142")
    assert response.status_code == 200
    assert not Voter.objects.filter(vote=vote, voted=True).exists()


@FUZZ
@given(code=st.text(max_size=30), choice=st.text(max_size=5))
def test_any_ballot_form_is_a_clear_answer(net, code, choice):
    ballot_gate.reset()
    vote = open_vote(net.boyle, net.ana)
    response = Client().post(f"/votes/v/{vote.code}/", {"code": code, "choice": choice})
    assert response.status_code == 400
    assert not Ballot.objects.filter(vote=vote, option__isnull=False).exists()


@FUZZ
@given(
    fields=st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["yes_no", "options", "strike", "", "x"]),
            "question_en": st.text(max_size=20),
            "question_es": st.text(max_size=20),
            "options_en": st.text(max_size=30),
            "options_es": st.text(max_size=30),
            "rule": st.sampled_from(["majority", "two_thirds", "share", "nope"]),
            "share": st.sampled_from(["", "0", "50", "101", "-1", "x"]),
            "quorum": st.sampled_from(["", "0", "50", "101", "x"]),
            "closes_date": st.sampled_from(["", "2020-01-01", "2099-01-01", "bad"]),
            "closes_time": st.sampled_from(["", "10:00", "25:00"]),
        }
    )
)
def test_any_vote_form_is_a_clear_answer(net, fields):
    client = sign_in(Client(), net.ana)
    before = Vote.objects.count()
    response = client.post(f"/votes/new/{net.boyle.slug}/", fields)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Vote.objects.count() == before


def test_a_vote_with_no_options_is_refused_in_words(net):
    client = sign_in(Client(), net.ana)
    response = client.post(
        f"/votes/new/{net.boyle.slug}/",
        {
            "kind": "options",
            "question_en": "Which action?",
            "question_es": "¿Qué acción?",
            "options_en": "",
            "rule": "majority",
            "quorum": "0",
            "closes_date": "2099-01-01",
            "closes_time": "10:00",
        },
    )
    assert "Give between 2 and 12 options" in response.content.decode()
    assert not Vote.objects.exists()


def test_texts_of_the_two_apps_do_not_collide(net):
    from defensa.notify import inbound
    from defensa.pledges import sms as pledge_sms
    from defensa.votes import sms as vote_sms

    assert not set(pledge_sms.KEYWORDS) & set(vote_sms.KEYWORDS)
    assert all(inbound._KEYWORDS[w] is vote_sms.handle_text for w in vote_sms.KEYWORDS)  # noqa: SLF001
