"""The one reveal quota: every kind of contact counts against the same hourly number."""

from __future__ import annotations

import pytest

from defensa.audit.models import AuditEntry
from defensa.audit.reveals import RevealQuota, record_reveal


def test_member_phones_caller_numbers_and_contacts_share_one_quota(net, settings):
    settings.PHONE_REVEALS_PER_HOUR = 2
    record_reveal("member.phone", actor=net.ana, obj=net.mo, committee=net.boyle.pk)
    record_reveal("voice.caller_number", actor=net.ana, obj=net.dani, committee=net.boyle.pk)
    with pytest.raises(RevealQuota):
        record_reveal("reports.contact", actor=net.ana, obj=net.vero, committee=net.boyle.pk)
    # The refusal was committed and kept, under the kind that was refused.
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == [
        "member.phone_revealed",
        "voice.caller_number_revealed",
        "reports.contact_reveal_refused",
    ]
    # Another person's quota is their own.
    record_reveal("reports.contact", actor=net.omar, obj=net.vero, committee=net.east.pk)


def test_an_unknown_kind_is_a_programming_error(net):
    with pytest.raises(ValueError):
        record_reveal("member.address", actor=net.ana, obj=net.mo)
    assert not AuditEntry.objects.filter(action__startswith="member.address").exists()


def test_the_quota_counts_records_opened_not_looks(net, settings):
    settings.PHONE_REVEALS_PER_HOUR = 2
    for _ in range(5):  # the same record again and again: audited each time, counted once
        record_reveal("cases.notes", actor=net.lucia, obj=net.boyle)
    record_reveal("accompaniment.identity", actor=net.lucia, obj=net.east)
    with pytest.raises(RevealQuota):
        record_reveal("voice.recording", actor=net.lucia, obj=net.city)
    # A record already opened this hour can still be looked at again.
    record_reveal("cases.identifiers", actor=net.lucia, obj=net.boyle)
    assert AuditEntry.objects.filter(action="cases.notes_revealed").count() == 5
    assert AuditEntry.objects.filter(action="voice.recording_reveal_refused").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_quota_holds_when_reveals_arrive_at_once_from_several_machines(net, settings):
    """Each thread has its own database connection, as each web machine's process does; they
    all ask at the same moment. Exactly the quota is revealed, never one more."""
    import threading

    from django.db import connection

    settings.PHONE_REVEALS_PER_HOUR = 3
    people = [net.mo, net.dani, net.vero, net.omar, net.pat, net.lucia, net.ana, net.city]
    start = threading.Barrier(len(people))
    outcomes: list[str] = []

    def reveal(obj) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait()
            record_reveal("member.phone", actor=net.ana, obj=obj)
            outcomes.append("revealed")
        except RevealQuota:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=reveal, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["revealed"] * 3
    assert AuditEntry.objects.filter(action="member.phone_revealed").count() == 3
    assert AuditEntry.objects.filter(action="member.phone_reveal_refused").count() == 5
