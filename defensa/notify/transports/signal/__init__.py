"""Signal through a signal-cli daemon's JSON-RPC endpoint. For small groups only (docs/channels.md).

On when SIGNAL_RPC_URL and SIGNAL_ACCOUNT are set. Run signal-cli next to Defensa, on loopback:
`signal-cli -a +1... daemon --http 127.0.0.1:8080`; each message is one
`POST {SIGNAL_RPC_URL}/api/v1/rpc` with `{"jsonrpc": "2.0", "method": "send",
"params": {"account", "recipient": [phone], "message"}, "id"}`. signal-cli answers with the
message's timestamp, kept as the provider id.

Errors: signal-cli reports each recipient's outcome (`results[].type`), and an error code when
nothing was sent. Not on Signal (UNREGISTERED_FAILURE, "not registered") and an untrusted
identity (IDENTITY_FAILURE, code -4: the safety number changed and nobody approved it) are
permanent. Rate limits and captcha challenges (RATE_LIMIT_FAILURE, PROOF_REQUIRED_FAILURE,
code -5) are transient with the server's wait; so are network failures, signal-cli I/O errors
(-3), its internal errors and an unreachable daemon. A malformed request or an unknown account
(-32600..-32602) is permanent: fix the settings. Signal has no idempotency key: a worker killed
between signal-cli sending and our commit sends the message again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.utils.translation import gettext_noop

from defensa.notify.transports import (
    Outgoing,
    Rate,
    SendResult,
    Transport,
    TransportError,
    parse_rate,
)
from defensa.notify.transports.http import post_json

if TYPE_CHECKING:
    from defensa.notify.models import Delivery

RPC_PATH = "/api/v1/rpc"

# signal-cli's JSON-RPC error codes (SignalJsonRpcCommandHandler) besides the standard ones.
USER_ERROR = -1
IO_ERROR = -3
UNTRUSTED_KEY_ERROR = -4
RATE_LIMIT_ERROR = -5
# JSON-RPC 2.0: invalid request, method not found, invalid params.
BAD_REQUEST = (-32600, -32601, -32602)

PERMANENT_TYPES = {
    "UNREGISTERED_FAILURE": "not on Signal",
    "IDENTITY_FAILURE": "untrusted identity",
}
TRANSIENT_TYPES = {
    "RATE_LIMIT_FAILURE": "rate limited",
    "PROOF_REQUIRED_FAILURE": "captcha challenge",
    "NETWORK_FAILURE": "network failure",
    "INVALID_PRE_KEY_FAILURE": "invalid pre-key",
}
# A captcha challenge needs a person (docs/channels.md); retrying sooner only adds strikes.
CHALLENGE_WAIT_SECONDS = 3600.0


class SignalTransport(Transport):
    kind: ClassVar[str] = "signal"
    channels: ClassVar[tuple[str, ...]] = ("signal",)
    takes_own_slot: ClassVar[bool] = True

    @classmethod
    def is_enabled(cls) -> bool:
        return bool(settings.SIGNAL_RPC_URL and settings.SIGNAL_ACCOUNT)

    @property
    def rate_key(self) -> str:
        return f"signal:{settings.SIGNAL_ACCOUNT}"

    @property
    def rate(self) -> Rate | None:
        return parse_rate(settings.SIGNAL_RATE)

    def send(self, delivery: Delivery, out: Outgoing) -> SendResult:
        if not out.to:
            raise TransportError(gettext_noop("no address to send to"), permanent=True)
        request = {
            "jsonrpc": "2.0",
            "method": "send",
            "params": {
                "account": settings.SIGNAL_ACCOUNT,
                "recipient": [out.to],
                "message": out.message.body.strip(),
            },
            "id": delivery.idempotency_key,
        }
        reply = post_json(
            settings.SIGNAL_RPC_URL,
            RPC_PATH,
            request,
            headers={},
            timeout=settings.SIGNAL_TIMEOUT,
            out=out,
            who="signal-cli",
        )
        if reply.status >= 500:
            raise TransportError(f"signal-cli HTTP {reply.status}", permanent=False)
        if reply.status != 200:
            raise TransportError(f"signal-cli HTTP {reply.status}", permanent=True)
        data = reply.json()
        if not isinstance(data, dict):
            raise TransportError("signal-cli: not a JSON-RPC answer", permanent=False)
        return classify(data)


def _first_result(container: Any) -> dict[str, Any]:
    results = container.get("results") if isinstance(container, dict) else None
    first = results[0] if isinstance(results, list) and results else None
    return first if isinstance(first, dict) else {}


def _wait(result: dict[str, Any]) -> float | None:
    value = result.get("retryAfterSeconds")
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 86400:
        return float(value)
    return None


def _from_result(result: dict[str, Any]) -> TransportError | None:
    kind = result.get("type")
    if kind in PERMANENT_TYPES:
        return TransportError(f"Signal: {PERMANENT_TYPES[kind]}", permanent=True)
    if kind in TRANSIENT_TYPES:
        wait = _wait(result)
        if kind == "PROOF_REQUIRED_FAILURE":
            wait = max(wait or 0.0, CHALLENGE_WAIT_SECONDS)
        return TransportError(f"Signal: {TRANSIENT_TYPES[kind]}", permanent=False, retry_after=wait)
    return None


def classify(data: dict[str, Any]) -> SendResult:
    """A signal-cli JSON-RPC answer to `send`: the message's timestamp, or a TransportError."""
    error = data.get("error")
    if error is None:
        result = data.get("result")
        outcome = _from_result(_first_result(result))
        if outcome is not None:
            raise outcome
        stamp = result.get("timestamp") if isinstance(result, dict) else None
        if isinstance(stamp, int) and not isinstance(stamp, bool):
            return SendResult(provider_message_id=str(stamp))
        raise TransportError("signal-cli: no timestamp in the answer", permanent=False)
    if not isinstance(error, dict):
        raise TransportError("signal-cli: malformed error", permanent=False)
    code = error.get("code")
    data_node = error.get("data")
    response = data_node.get("response") if isinstance(data_node, dict) else None
    outcome = _from_result(_first_result(response))
    if outcome is not None:
        raise outcome
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    if code == UNTRUSTED_KEY_ERROR:
        raise TransportError("Signal: untrusted identity", permanent=True)
    if code == RATE_LIMIT_ERROR:
        raise TransportError("Signal: rate limited", permanent=False)
    if code == USER_ERROR and "not registered" in message:
        raise TransportError("Signal: not on Signal", permanent=True)
    if code in BAD_REQUEST:
        raise TransportError(f"signal-cli refused the request (error {code})", permanent=True)
    if code == USER_ERROR:
        raise TransportError(f"signal-cli error {code}", permanent=True)
    raise TransportError(f"signal-cli error {code}", permanent=False)
