"""Request metadata scrubbing and security headers (security properties 2, 12, 13)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from defensa.core import maps

# Request headers that identify a visitor. They are removed before any of our code, a
# log handler or an error report can see them.
IDENTIFYING_META = (
    "REMOTE_ADDR",
    "REMOTE_HOST",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_CF_CONNECTING_IP",
    "HTTP_USER_AGENT",
    "HTTP_SEC_CH_UA",
    "HTTP_SEC_CH_UA_PLATFORM",
    "HTTP_SEC_CH_UA_MOBILE",
)

# A key that lives only in this process's memory and changes every day, so a source tag
# cannot be turned back into an address, even by someone holding the server.
_tag_key = {"day": -1, "key": b""}


def _source_key() -> bytes:
    day = int(time.time() // 86400)
    if _tag_key["day"] != day:
        _tag_key["day"] = day
        _tag_key["key"] = secrets.token_bytes(32)
    return _tag_key["key"]  # type: ignore[return-value]


def source_tag_for(address: str) -> str:
    return hmac.new(_source_key(), address.encode(), hashlib.sha256).hexdigest()[:20]


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """DEFENSA_TRUSTED_PROXIES as networks (settings.py has already refused bad entries)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(meta: dict, trusted: tuple[str, ...]) -> str:
    """The address a request came from, for flood control only.

    X-Forwarded-For is anyone's to write, so it counts only when the peer is a configured
    proxy; then the right-most address that is not a trusted proxy is the client (the one
    our own proxy saw), never the left-most (the one the client made up).
    """
    peer = meta.get("REMOTE_ADDR", "") or ""
    networks = trusted_networks(trusted)
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    # Only proxies of ours on the way (a health check from the proxy machine itself).
    return hops[0] if hops else peer


class ScrubRequestMetadataMiddleware:
    """Replace the client's address with an in-memory, daily-keyed tag, then drop it.

    `request.source_tag` lets flood control slow one source down without any IP address
    or user agent ever reaching the database, the files or the logs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        address = client_address(meta, tuple(settings.TRUSTED_PROXIES))
        request.source_tag = source_tag_for(address)  # type: ignore[attr-defined]
        for key in IDENTIFYING_META:
            meta.pop(key, None)
        # Django and WSGI servers expect the key to exist; a fixed value means nothing.
        meta["REMOTE_ADDR"] = "0.0.0.0"  # noqa: S104
        return self.get_response(request)


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """CSP without inline script or third-party origins; no caching of private pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault(
            "Content-Security-Policy",
            maps.content_security_policy(CONTENT_SECURITY_POLICY, response),
        )
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        private = (user is not None and user.is_authenticated) or request.path.startswith(
            "/accounts/"
        )
        if private:
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
