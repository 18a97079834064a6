"""A small push service on loopback that also plays the devices behind it.

Like a browser, `new_device()` makes a subscription: a P-256 key pair, a 16-byte auth secret
and an endpoint URL on this server. On each POST to an endpoint the peer:

- checks the VAPID `Authorization` (RFC 8292): the JWT's ES256 signature against the public
  key the device subscribed with, its `aud` (this server's origin), `exp` and `sub`;
- checks the Web Push headers (`TTL`, `Content-Encoding: aes128gcm`, `Urgency`, `Topic`);
- decrypts the body with the device's private key and auth secret (RFC 8291 / RFC 8188),
  written here independently of http-ece, which the transport encrypts with.

Only what decrypts is recorded as received: a payload that is not encrypted to the device's
keys cannot pass. Scripted answers (404, 410, 429 with Retry-After, 500) can be queued for
the next requests, or for one device.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from defensa.testing.peers import LoopbackPeer, QuietHandler


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decrypt(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """What the browser does with a push message (RFC 8291 section 3, RFC 8188 section 2)."""
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_public = body[21 : 21 + idlen]
    ciphertext = body[21 + idlen :]
    if idlen != 65 or rs < 18 or not ciphertext or len(ciphertext) > rs:
        raise ValueError("not one aes128gcm record with a P-256 sender key")
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    shared = ua_private.exchange(ec.ECDH(), sender)
    key_info = b"WebPush: info\x00" + point(ua_private) + as_public
    ikm = _hkdf(auth_secret, shared, key_info, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
    # The last record ends with 0x02 after the content, then only zero padding.
    content = padded.rstrip(b"\x00")
    if not content.endswith(b"\x02"):
        raise ValueError("bad padding delimiter")
    return content[:-1]


def verify_vapid(header: str, public_key: str, origin: str) -> dict[str, Any]:
    """Check `vapid t=<jwt>, k=<key>` as a push service does; return the JWT's claims."""
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError("not a vapid Authorization")
    parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
    if parts.get("k") != public_key:
        raise ValueError("k is not the key the device subscribed with")
    head, claims_b64, signature = parts["t"].split(".")
    if json.loads(b64d(head)) != {"typ": "JWT", "alg": "ES256"}:
        raise ValueError("not an ES256 JWT")
    raw = b64d(signature)
    if len(raw) != 64:
        raise ValueError("ES256 signatures are 64 bytes")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(public_key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{head}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims: dict[str, Any] = json.loads(b64d(claims_b64))
    now = time.time()
    if claims.get("aud") != origin:
        raise ValueError("aud is not this push service")
    if not now < claims.get("exp", 0) <= now + 24 * 3600:
        raise ValueError("exp missing, past, or more than 24 hours ahead")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        raise ValueError("sub is not a mailto: or https: contact")
    return claims


@dataclass
class Device:
    """A browser's subscription: what it hands the site, and its private half."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str  # the VAPID public key it subscribed with

    @property
    def p256dh(self) -> str:
        return b64e(point(self.private_key))

    @property
    def auth(self) -> str:
        return b64e(self.auth_secret)


@dataclass
class Received:
    device: str  # token
    payload: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]
    at: float


@dataclass
class PushPeer(LoopbackPeer):
    vapid_public_key: str = ""
    devices: dict[str, Device] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why requests were refused (401/400)
    requests: int = 0
    _script: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return self.base_url

    def handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra = peer.handle(self.path, headers, body, self.arrived)
                self.reply(status, headers=extra)

        return Handler

    def new_device(self, application_server_key: str | None = None) -> Device:
        token = secrets.token_urlsafe(24)
        device = Device(
            token=token,
            endpoint=f"{self.origin}/push/{token}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
            application_server_key=application_server_key or self.vapid_public_key,
        )
        self.devices[token] = device
        return device

    def answer_next(
        self, status: int, *, retry_after: str = "", device: Device | None = None, times: int = 1
    ) -> None:
        """The next request (to `device`, or to any) gets `status` instead of 201."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        with self._lock:
            for _ in range(times):
                self._script.append((device.token if device else "", status, headers))

    def for_device(self, device: Device) -> list[Received]:
        return [r for r in self.received if r.device == device.token]

    def _scripted(self, token: str) -> tuple[int, dict[str, str]] | None:
        with self._lock:
            for i, (target, status, headers) in enumerate(self._script):
                if target in ("", token):
                    del self._script[i]
                    return status, headers
        return None

    def handle(
        self, path: str, headers: dict[str, str], body: bytes, arrived: float = 0.0
    ) -> tuple[int, dict[str, str]]:
        """`arrived`: when the request reached this machine (`QuietHandler.arrived`); else
        the time it is handled."""
        with self._lock:
            self.requests += 1
        token = path.removeprefix("/push/")
        device = self.devices.get(token)
        if not path.startswith("/push/") or device is None:
            return 404, {}
        scripted = self._scripted(token)
        if scripted is not None:
            return scripted
        try:
            claims = verify_vapid(
                headers.get("authorization", ""), device.application_server_key, self.origin
            )
        except (ValueError, KeyError, InvalidSignature) as exc:
            self.refused.append(f"vapid: {exc}")
            return 403, {}
        if headers.get("content-encoding") != "aes128gcm":
            self.refused.append("content-encoding")
            return 415, {}
        if not headers.get("ttl", "").isdigit():
            self.refused.append("ttl")
            return 400, {}
        if headers.get("urgency", "normal") not in ("very-low", "low", "normal", "high"):
            self.refused.append("urgency")
            return 400, {}
        topic = headers.get("topic", "")
        if len(topic) > 32 or any(ch not in _B64URL_CHARS for ch in topic):
            self.refused.append("topic")
            return 400, {}
        if len(body) > 4096:
            return 413, {}
        try:
            plaintext = decrypt(body, device.private_key, device.auth_secret)
            payload = json.loads(plaintext)
        except (ValueError, InvalidTag) as exc:
            self.refused.append(f"decrypt: {type(exc).__name__}")
            return 400, {}
        with self._lock:
            self.received.append(Received(token, payload, headers, claims, arrived or time.time()))
        return 201, {"Location": f"{self.origin}/message/{secrets.token_urlsafe(8)}"}


_B64URL_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
