"""Switching an account off expires its open verification offers.

`accounts` sits below `dispatch` and cannot call us, so we listen for the save that switches
an account off (accounts.actions.deactivate_user), inside its transaction. An expired offer
stops counting as someone going, so escalation asks the next verifiers instead of waiting on
an account that was switched off; and switching the account back on does not revive it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="dispatch_expire_inactive")
def expire_offers_of_inactive(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.is_active:
        return
    from defensa.dispatch.models import Offer, OfferStatus

    Offer.objects.filter(
        responder_id=instance.pk,
        status__in=[OfferStatus.OFFERED, OfferStatus.ACCEPTED, OfferStatus.ARRIVED],
        outcome="",
    ).update(status=OfferStatus.EXPIRED)
