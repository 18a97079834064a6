"""Seed the canaries through every encrypted path (run inside a scratch install).

`python manage.py shell -c "from defensa.core.crypto.tests.seed_canaries import main; main()"`

Whoever adds an encrypted field adds a line to seed(), so the at-rest canary test covers it.
A control value goes into an ordinary column, to prove the search finds what is there.
"""

from __future__ import annotations

import os
import sys

from django.db import connection

CONTROL = "canary-control-7f3a"


def seed() -> list[int]:
    from defensa.core import crypto
    from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_PHONE
    from defensa.reports.actions import receive_report
    from defensa.reports.models import Report

    pks = []
    for i, contact in enumerate((CANARY_PHONE, CANARY_A_NUMBER)):
        report = receive_report(
            {"category": "sighting", "zip_code": "90033", "contact": contact},
            channel="web",
            idempotency_key=f"canary-seed-{i}",
        ).report
        # Stored, and readable with the key: the search below looks for something real.
        assert crypto.unseal(Report.objects.get(pk=report.pk), "contact") == contact
        pks.append(report.pk)
    # A voicemail keeps the caller's number to call back: sealed too.
    from defensa.committees.models import Committee, Kind
    from defensa.voice.actions import start_voicemail
    from defensa.voice.models import Hotline

    committee = Committee.objects.create(name="Canary", slug="canary", kind=Kind.NETWORK)
    hotline = Hotline.objects.create(committee=committee, number="+12135550100")
    voicemail = start_voicemail(hotline, call_sid="CAcanary", caller=CANARY_PHONE, language="es")
    assert crypto.unseal(voicemail, "caller_number") is not None
    # A message to someone without an account (a family contact) keeps the address sealed.
    from django.db import transaction

    from defensa.notify.actions import Address, queue_message

    with transaction.atomic():
        [delivery] = queue_message(
            Address("sms", CANARY_PHONE, "es"), "test_message", idempotency_key="canary-family"
        )
    assert delivery.resolve_address() == CANARY_PHONE
    # A pledge before its campaign's threshold: the number sealed under the campaign's key,
    # the row keeping only a keyed digest; the texted answer's address sealed under it too.
    import datetime as dt

    from django.utils import timezone

    from defensa.pledges import actions as pledges

    campaign = pledges.open_campaign(
        committee,
        pledges.CampaignData(
            scope="committee",
            title_en="Canary walk-out",
            title_es="Paro canario",
            text_en="I walk out if 5 of us pledge.",
            text_es="Paro si 5 lo prometemos.",
            threshold_kind="count",
            threshold=5,
            eligible_count=None,
            eligible_source="",
            deadline=timezone.now() + dt.timedelta(days=2),
            require_confirmation=False,
        ),
        actor=None,  # type: ignore[arg-type]
    )
    pledges.pledge_by_phone(campaign, CANARY_PHONE, origin="sms", language="es")
    pledges.reply_by_text(campaign, "+13235550177", "es", "counted", "SMcanarypledge01")
    receive_report(
        {"category": "sighting", "zip_code": "90033", "description": CONTROL},
        channel="web",
        idempotency_key="canary-control",
    )
    return pks


def main() -> None:
    """Seed and say so; with CANARY_HOLD=1 keep the connection (so SQLite's WAL) open until
    stdin closes."""
    pks = seed()
    sys.stdout.write(f"seeded {' '.join(map(str, pks))}\n")
    sys.stdout.flush()
    if os.environ.get("CANARY_HOLD"):
        sys.stdin.read()
    connection.close()
