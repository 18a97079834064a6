"""Verification dispatch: offers of an incident to responders, in widening rounds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import COMMITTEE, INTERNAL, SECRET, SENSITIVE, FieldClass, c
from defensa.incidents.models import INCIDENT_RETENTION

# Who was sent where is part of the incident's record for court, so offers live as long as
# the incident; the link secrets die far sooner in practice (they stop working at expiry).
OFFER_RETENTION = INCIDENT_RETENTION


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    ARRIVED = "arrived", _("On site")


# A responder who said they are going, whether on the way or already on site.
GOING: frozenset[str] = frozenset({OfferStatus.ACCEPTED, OfferStatus.ARRIVED})


@dataclass(frozen=True)
class OfferStep:
    """One step of a responder's answer: from which status, to which, the time it stamps,
    and the refusal's code (IllegalTransition) when the offer is not in `before`."""

    before: str
    after: str
    stamp: str
    refused: str
    # Only while the incident is still being verified (a settled one needs nobody more).
    while_verifying: bool = False


# A responder's steps, the one place they are written (dispatch.actions.step_offer applies
# them under a row lock). Reporting the finding keeps the status and sets the outcome.
OFFER_STEPS: dict[str, OfferStep] = {
    "accept": OfferStep(
        OfferStatus.OFFERED, OfferStatus.ACCEPTED, "responded_at", "answered", True
    ),
    "decline": OfferStep(OfferStatus.OFFERED, OfferStatus.DECLINED, "responded_at", "answered"),
    "arrive": OfferStep(OfferStatus.ACCEPTED, OfferStatus.ARRIVED, "arrived_at", "not accepted"),
    "finish": OfferStep(OfferStatus.ARRIVED, OfferStatus.ARRIVED, "finished_at", "not on site"),
}


class OfferQuerySet(models.QuerySet["Offer"]):
    def going(self) -> OfferQuerySet:
        """Offers whose responder is going (the same rule as `Offer.is_going`)."""
        return self.filter(status__in=GOING)


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    NOT_FOUND = "not_found", _("Not found")
    FALSE_ALARM = "false_alarm", _("False alarm")


class Offer(models.Model):
    """One responder asked to go and look at one incident.

    The link's token is an HMAC of the offer's id and `nonce` under SECRET_KEY, so neither
    the database alone nor the outbox holds a working link; only its SHA-256 is stored.
    """

    # A verifier's finding is evidence: never purged while the incident is held.
    LEGAL_HOLD = "incident__legal_hold"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="offers"
    )
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers"
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED
    )
    outcome = models.CharField(_("finding"), max_length=12, choices=Outcome.choices, blank=True)
    tier = models.PositiveSmallIntegerField(_("round"), default=1)
    nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OfferQuerySet.as_manager()

    _o = c(INTERNAL, OFFER_RETENTION, "dispatcher", "coordinator", "legal", "self")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "incident",
                "responder",
                "offered_by",
                "status",
                "outcome",
                "tier",
                "created_at",
                "expires_at",
                "responded_at",
                "arrived_at",
                "finished_at",
            ),
            _o,
        ),
        **dict.fromkeys(("nonce", "token_hash"), c(SECRET, OFFER_RETENTION)),
    }

    class Meta:
        ordering = ["tier", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "responder"], name="one_offer_each")
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="dispatch_offer_due")]

    def __str__(self) -> str:
        return f"Offer #{self.pk} ({self.status})"

    @property
    def is_going(self) -> bool:
        return self.status in GOING

    def link_problem(self, now: dt.datetime | None = None) -> str:
        """Why the link no longer works ("used", "expired"), or "" while it does.

        A switched-off account's links answer like expired ones: deactivating a person takes
        away every power at once (issue "Hardening", point 1).
        """
        if not self.responder.is_active:
            return "expired"
        if self.outcome or self.status in (OfferStatus.DECLINED, OfferStatus.EXPIRED):
            return "expired" if self.status == OfferStatus.EXPIRED else "used"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return ""


class Round(models.Model):
    """One widening step of an incident's verification: when it began, whether it widened."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="dispatch_rounds"
    )
    tier = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    widened_at = models.DateTimeField(null=True, blank=True)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "incident", "tier", "started_at", "widened_at"),
        c(INTERNAL, OFFER_RETENTION, "dispatcher", "coordinator", "legal"),
    )

    class Meta:
        ordering = ["incident_id", "tier"]
        constraints = [models.UniqueConstraint(fields=["incident", "tier"], name="one_round_each")]

    def __str__(self) -> str:
        return f"Round {self.tier} of incident #{self.incident_id}"


class Reach(models.TextChoices):
    """Whose verifiers a widening round (the second and later) may ask."""

    RINGS = "rings", _("Only this committee's verifiers, farther out")
    NEIGHBOURS = "neighbours", _("Also the neighbouring committees' verifiers")
    NEXT_TIER = "next_tier", _("Also the verifiers of the committee above")


class DispatchPolicy(models.Model):
    """A committee's own numbers for dispatch; without a row the settings' defaults apply."""

    committee = models.OneToOneField(
        "committees.Committee", on_delete=models.CASCADE, related_name="dispatch_policy"
    )
    offer_size = models.PositiveSmallIntegerField(_("responders asked per round"))
    accept_target = models.PositiveSmallIntegerField(_("acceptances wanted"))
    escalate_minutes = models.PositiveSmallIntegerField(_("minutes before widening"))
    reach = models.CharField(
        _("how far widening goes"), max_length=12, choices=Reach.choices, default=Reach.RINGS
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "committee",
            "offer_size",
            "accept_target",
            "escalate_minutes",
            "reach",
            "changed_by",
            "changed_at",
        ),
        c(INTERNAL, COMMITTEE, "coordinator", "dispatcher"),
    )

    def __str__(self) -> str:
        return f"Dispatch policy of {self.committee}"


class AreaAlert(models.Model):
    """A member asked to be told about confirmed incidents in one neighbourhood cell (opt-in)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="area_alerts"
    )
    # An h3 cell at the neighbourhood resolution (defensa/core/geo.py): never a street.
    cell = models.CharField(_("area"), max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    _a = c(INTERNAL, "account", "self")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "user", "created_at"), _a),
        # Where someone wants alerts hints at where they live or work: need to know.
        "cell": c(SENSITIVE, "account", "self"),
    }

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "cell"], name="one_alert_per_area")]

    def __str__(self) -> str:
        return f"Area alert #{self.pk}"
