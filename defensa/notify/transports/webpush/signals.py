"""Deactivating an account deletes its device subscriptions.

`accounts` sits below `notify` and cannot call us, so we listen for the save that switches
an account off (accounts.actions.deactivate_user), inside its transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="webpush_forget_inactive")
def forget_devices_of_inactive(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.is_active:
        return
    from defensa.notify.transports.webpush.models import PushSubscription

    PushSubscription.objects.filter(user_id=instance.pk).delete()
