"""What a broadcast will do, shown before it is sent: people, channels, SMS segments, cost, time.

Time is the provisioned rate of each channel's transport (the same rate the worker keeps to):
messages / rate. Channels go out side by side, so the whole takes as long as the slowest one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from defensa.broadcasts import messages, segments, smscount
from defensa.notify.actions import (
    RECIPIENT_FIELDS,
    address_digests,
    chosen_channels,
    optout_key,
)
from defensa.notify.models import Channel, OptOut
from defensa.notify.transports import NoTransport, Rate, transport_for_channel


def price_per_segment() -> Decimal:
    return Decimal(str(settings.BROADCAST_SMS_SEGMENT_PRICE or "0"))


def channel_rate(channel: str) -> tuple[bool, Rate | None]:
    """(has a transport, its provisioned rate or None for no limit)."""
    try:
        return True, transport_for_channel(channel).rate
    except NoTransport:
        return False, None


@dataclass
class ChannelPlan:
    channel: str
    label: str
    messages: int
    configured: bool
    rate: Rate | None
    seconds: float | None  # None: no rate limit set, as fast as the worker sends
    percent: int = 0  # of all messages, for the bar


@dataclass
class LanguagePlan:
    language: str
    label: str
    people: int
    sms: smscount.SmsCount
    sms_people: int
    text: str = ""


@dataclass
class Estimate:
    people: int
    unreachable: int  # in the segment, but no channel chosen (or every address opted out)
    opted_out: int  # deliveries skipped because the address opted out
    channels: list[ChannelPlan] = field(default_factory=list)
    languages: list[LanguagePlan] = field(default_factory=list)
    sms_segments: int = 0
    cost: Decimal = Decimal(0)
    seconds: float | None = 0.0
    needs_approval: bool = False

    @property
    def messages(self) -> int:
        return sum(c.messages for c in self.channels)


def estimate(broadcast) -> Estimate:  # type: ignore[no-untyped-def]
    # Who has a device for push: one query per chunk of people, not one per person.
    people_qs = (
        segments.recipients(broadcast)
        .only(*RECIPIENT_FIELDS)
        .prefetch_related("push_subscriptions")
    )
    opted = set(OptOut.objects.values_list("channel", "address_digest"))
    key = optout_key() if opted else b""
    per_channel: dict[str, int] = {}
    per_language: dict[str, int] = {}
    sms_by_language: dict[str, int] = {}
    people = unreachable = opted_out = 0
    for user in people_qs.iterator(chunk_size=2000):
        people += 1
        language = user.language or settings.LANGUAGE_CODE
        per_language[language] = per_language.get(language, 0) + 1
        reached = False
        for channel in chosen_channels(user):
            value = user.email if channel == Channel.EMAIL else user.phone
            if opted and any(
                (channel, digest) in opted for digest in address_digests(channel, value, key)
            ):
                opted_out += 1
                continue
            reached = True
            per_channel[channel] = per_channel.get(channel, 0) + 1
            if channel == Channel.SMS:
                sms_by_language[language] = sms_by_language.get(language, 0) + 1
        if not reached:
            unreachable += 1

    # Alert subscribers of a public broadcast: one text each, in their language.
    for language in segments.subscribers(broadcast).values_list("language", flat=True).iterator():
        people += 1
        per_language[language] = per_language.get(language, 0) + 1
        per_channel[Channel.SMS] = per_channel.get(Channel.SMS, 0) + 1
        sms_by_language[language] = sms_by_language.get(language, 0) + 1

    result = Estimate(people=people, unreachable=unreachable, opted_out=opted_out)
    total_messages = sum(per_channel.values()) or 1
    for channel, label in Channel.choices:
        count = per_channel.get(channel, 0)
        if not count:
            continue
        configured, rate = channel_rate(channel)
        seconds = count * rate.interval if rate else None
        result.channels.append(
            ChannelPlan(
                channel,
                str(label),
                count,
                configured,
                rate,
                seconds,
                round(100 * count / total_messages),
            )
        )
    names = dict(settings.LANGUAGES)
    texts = broadcast.texts or {}
    for language, _label in settings.LANGUAGES:
        # Ten languages: only those someone reads or someone wrote in.
        if not per_language.get(language) and not (texts.get(language) or "").strip():
            continue
        count = smscount.count(messages.sms_body(broadcast, language))
        result.languages.append(
            LanguagePlan(
                language,
                str(names[language]),
                per_language.get(language, 0),
                count,
                sms_by_language.get(language, 0),
                messages.text_for(broadcast, language),  # what they get, fallback included
            )
        )
        result.sms_segments += count.segments * sms_by_language.get(language, 0)
    result.cost = (price_per_segment() * result.sms_segments).quantize(Decimal("0.01"))
    times = [c.seconds for c in result.channels if c.configured]
    result.seconds = None if any(t is None for t in times) else max(times, default=0.0)  # type: ignore[type-var]
    result.needs_approval = people >= settings.BROADCAST_APPROVAL_THRESHOLD
    return result


def duration_label(seconds: float | None) -> str:
    """'about 12 min', in the active language; '' for no estimate."""
    from django.utils.translation import gettext as _

    if seconds is None:
        return ""
    if seconds < 60:
        return _("under a minute")
    minutes = round(seconds / 60)
    if minutes < 120:
        return _("about %(n)s min") % {"n": minutes}
    return _("about %(n)s hours") % {"n": round(seconds / 3600, 1)}
