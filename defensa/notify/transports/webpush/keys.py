"""VAPID keys (RFC 8292) and what a subscription may contain.

The VAPID private key is a P-256 key given as `WEBPUSH_VAPID_PRIVATE_KEY` (or its `_FILE`):
base64url of the raw 32-byte scalar (what `manage.py webpush_keys` prints), base64url DER, or
PEM. The public key, which browsers need as `applicationServerKey`, is derived from it.
Signing the JWT is py-vapid's; the key handling around it is ours.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from py_vapid import Vapid02

# A push service keeps a JWT at most 24 hours; ours lives 12.
JWT_LIFETIME_SECONDS = 12 * 3600
MAX_ENDPOINT_LENGTH = 2000
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class KeyError_(ValueError):  # noqa: N801 (not the builtin KeyError)
    """The configured VAPID key cannot be read."""


def b64url_decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parse_private(text: str) -> ec.EllipticCurvePrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = b64url_decode("".join(text.split()))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise KeyError_("WEBPUSH_VAPID_PRIVATE_KEY is not a P-256 private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyError_("WEBPUSH_VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key")
    return key


@cache
def _vapid_for(text: str) -> Vapid02:
    from py_vapid import Vapid02  # loaded only when push is used

    return Vapid02(_parse_private(text))


def vapid() -> Vapid02:
    """The configured signer (raises KeyError_ when the key is missing or unreadable)."""
    if not settings.WEBPUSH_VAPID_PRIVATE_KEY:
        raise KeyError_("WEBPUSH_VAPID_PRIVATE_KEY is not set")
    return _vapid_for(settings.WEBPUSH_VAPID_PRIVATE_KEY)


def public_key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def application_server_key() -> str:
    """The public key, base64url, as the browser's PushManager.subscribe() wants it."""
    return b64url_encode(public_key_bytes(vapid().private_key))


def subject() -> str:
    return settings.WEBPUSH_VAPID_SUBJECT or f"mailto:{settings.DEFAULT_FROM_EMAIL}"


def audience(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def authorization(endpoint: str) -> str:
    """The `Authorization: vapid t=<JWT>, k=<public key>` header for one push service."""
    claims = {
        "aud": audience(endpoint),
        "sub": subject(),
        "exp": int(time.time()) + JWT_LIFETIME_SECONDS,
    }
    return str(vapid().sign(claims)["Authorization"])


def generate() -> tuple[str, str]:
    """A new key pair: (private key as base64url raw scalar, public key as base64url point)."""
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url_encode(scalar), b64url_encode(public_key_bytes(key))


# What a subscription from a browser may contain ----------------------------------------


def _allowed(scheme: str, host: str) -> bool:
    for entry in settings.WEBPUSH_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if entry.startswith("http://"):
            # Plain HTTP only to this exact host: a push service on loopback for tests.
            if scheme == "http" and host == entry.removeprefix("http://").rstrip("/"):
                return True
            continue
        entry = entry.removeprefix("https://").rstrip("/").lstrip(".")
        if scheme == "https" and entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def endpoint_problem(endpoint: str) -> str:
    """Why an endpoint is refused ("" if it is fine).

    Only HTTPS URLs of the push services in WEBPUSH_ALLOWED_HOSTS are taken: a member must not
    be able to make our worker POST to any address it can reach (the database, a cloud
    metadata service, a printer on the office network).
    """
    if not endpoint or len(endpoint) > MAX_ENDPOINT_LENGTH:
        return str(_("This browser gave an address we cannot use."))
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return str(_("This browser gave an address we cannot use."))
    host = (parts.hostname or "").lower()
    if (
        parts.scheme not in ("https", "http")
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.fragment
        or (port is not None and not 0 < port < 65536)
        or any(ch.isspace() or ord(ch) < 32 for ch in endpoint)
    ):
        return str(_("This browser gave an address we cannot use."))
    if not _allowed(parts.scheme, host):
        return str(_("This browser's push service is not one this network accepts."))
    return ""


def keys_problem(p256dh: str, auth: str) -> str:
    """Why a subscription's keys are refused ("" if they are a P-256 point and 16 bytes)."""
    unusable = str(_("This browser gave keys we cannot use."))
    if not (_B64URL.match(p256dh) and _B64URL.match(auth)):
        return unusable
    try:
        point = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except (ValueError, binascii.Error):
        return unusable
    if len(point) != 65 or len(secret) != 16 or len(p256dh) > 100 or len(auth) > 40:
        return unusable
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return unusable
    return ""
