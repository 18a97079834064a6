"""Accompaniment actions: each atomic, each exactly one audit record.

One module per concern, all importable from here: `appointments` (places and the legal team's
calendar), `volunteers` (sign-ups), `checkins` (the companion's link and what they report),
`passes` (reminders and escalation, run by `accompaniment_tick`) and `feeds` (the private
calendar feed); `base` holds what they share.

Messages go through notify.queue_message in the same transaction with audit=False (the
action's own record names the cause) and an idempotency key naming that cause, so a reminder,
an escalation or a family alert goes out once however often a pass runs.

"Detained" composes with the cases app: `check_in` calls `cases.actions.open_case`
(the case's own action, with its own audit record) and then writes its own record as the
new case's timeline entry. When the appointment is already linked to a case, every check-in
becomes an entry of that case's timeline (its audit record is the action's one record).
"""

from defensa.accompaniment.actions.appointments import (
    MAX_CONTACTS,
    RevealQuota,
    add_place,
    cancel_appointment,
    reveal_identity,
    schedule_appointment,
)
from defensa.accompaniment.actions.base import (
    CANCELLED_MESSAGE,
    CONFIRMED_MESSAGE,
    DETAINED_FAMILY_MESSAGE,
    DETAINED_LEGAL_MESSAGE,
    MISSED_MESSAGE,
    REMINDER_MESSAGE,
    RESCHEDULED_MESSAGE,
    WITHDRAWN_MESSAGE,
)
from defensa.accompaniment.actions.checkins import (
    CHECKIN_STEPS,
    check_in,
    check_in_by_text,
    checkin_link,
    checkin_path,
    checkin_window,
    companion_token,
    find_companion,
    link_problem,
    step_refused,
)
from defensa.accompaniment.actions.feeds import (
    find_feed_user,
    new_feed_token,
    revoke_feed,
    upcoming_for,
)
from defensa.accompaniment.actions.passes import (
    DAY_BEFORE,
    SOON_BEFORE,
    escalate_missed,
    send_reminders,
)
from defensa.accompaniment.actions.volunteers import (
    confirm_companion,
    confirmed_count,
    decline_companion,
    sign_up,
    withdraw,
)

__all__ = [
    "CANCELLED_MESSAGE",
    "CHECKIN_STEPS",
    "CONFIRMED_MESSAGE",
    "DAY_BEFORE",
    "DETAINED_FAMILY_MESSAGE",
    "DETAINED_LEGAL_MESSAGE",
    "MAX_CONTACTS",
    "MISSED_MESSAGE",
    "REMINDER_MESSAGE",
    "RevealQuota",
    "RESCHEDULED_MESSAGE",
    "SOON_BEFORE",
    "WITHDRAWN_MESSAGE",
    "add_place",
    "cancel_appointment",
    "check_in",
    "check_in_by_text",
    "checkin_link",
    "checkin_path",
    "checkin_window",
    "companion_token",
    "confirm_companion",
    "confirmed_count",
    "decline_companion",
    "escalate_missed",
    "find_companion",
    "find_feed_user",
    "link_problem",
    "new_feed_token",
    "reveal_identity",
    "revoke_feed",
    "schedule_appointment",
    "send_reminders",
    "sign_up",
    "step_refused",
    "upcoming_for",
    "withdraw",
]
