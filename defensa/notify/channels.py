"""What each channel is carried by on this server: the channels page's picture.

A channel (email, text message, Signal, device notification) is carried by the first enabled
transport in its configured order (settings.NOTIFY_CHANNELS, docs/configuration.md). The
console transport only writes messages to the server's log: a channel carried by it reaches
nobody, so it counts as not configured.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from defensa.notify.models import Channel
from defensa.notify.transports import Rate, transport_class

# The idempotency prefix of an admin's test messages: the channels page lists them back.
TEST_PREFIX = "channeltest"

# Writes to the log instead of sending: development and the demo only.
LOG_ONLY = frozenset({"console"})


@dataclass(frozen=True)
class TransportState:
    kind: str
    enabled: bool
    rate: str
    in_use: bool


@dataclass(frozen=True)
class ChannelState:
    channel: str
    label: str
    transports: tuple[TransportState, ...]

    @property
    def carrier(self) -> TransportState | None:
        return next((t for t in self.transports if t.in_use), None)

    @property
    def configured(self) -> bool:
        """Whether messages on this channel reach people (not only the log)."""
        carrier = self.carrier
        return carrier is not None and carrier.kind not in LOG_ONLY

    @property
    def log_only(self) -> bool:
        carrier = self.carrier
        return carrier is not None and carrier.kind in LOG_ONLY


def describe_rate(rate: Rate | None) -> str:
    """A provider rate in people's words: "1 message every 6 seconds", "no limit"."""
    if rate is None:
        return _("no limit")
    seconds = rate.seconds
    if rate.count == 1:
        if seconds == 1:
            return _("1 message a second")
        if seconds == 60:
            return _("1 message a minute")
        whole = round(seconds)
        return ngettext("1 message every %(n)s second", "1 message every %(n)s seconds", whole) % {
            "n": whole
        }
    if seconds == 1:
        return ngettext("%(n)s message a second", "%(n)s messages a second", rate.count) % {
            "n": rate.count
        }
    if seconds == 60:
        return ngettext("%(n)s message a minute", "%(n)s messages a minute", rate.count) % {
            "n": rate.count
        }
    if seconds == 3600:
        return ngettext("%(n)s message an hour", "%(n)s messages an hour", rate.count) % {
            "n": rate.count
        }
    whole = round(seconds)
    return ngettext(
        "%(n)s messages every %(s)s second", "%(n)s messages every %(s)s seconds", whole
    ) % {"n": rate.count, "s": whole}


def _rate_text(kind: str) -> str:
    try:
        return describe_rate(transport_class(kind)().rate)
    except ValueError:
        # A mistyped rate setting: the worker refuses it too; say so instead of guessing.
        return _("the rate setting cannot be read")


def channel_states() -> list[ChannelState]:
    """Every channel this server knows, with its transports in order, each enabled or not,
    its rate, and which one carries the channel now."""
    labels = dict(Channel.choices)
    states = []
    for channel, kinds in settings.NOTIFY_CHANNELS.items():
        found = False
        transports = []
        for kind in kinds:
            enabled = transport_class(kind).is_enabled()
            transports.append(
                TransportState(
                    kind=kind,
                    enabled=enabled,
                    rate=_rate_text(kind) if enabled else "",
                    in_use=enabled and not found,
                )
            )
            found = found or enabled
        states.append(ChannelState(channel, str(labels.get(channel, channel)), tuple(transports)))
    return states


def unconfigured_channels() -> list[ChannelState]:
    """Channels whose messages reach nobody: no transport, or only the log."""
    return [state for state in channel_states() if not state.configured]


def inbound_texts_configured() -> bool:
    """Whether texts people send to our numbers can reach us: the Twilio webhook can check
    signatures (its auth token and our public address as Twilio calls it), or the SMS
    gateway's webhook has its secret path."""
    twilio = bool(settings.TWILIO_AUTH_TOKEN and settings.TWILIO_WEBHOOK_BASE_URL)
    return twilio or bool(settings.SMS_GATEWAY_WEBHOOK_TOKEN)
