"""Passkeys (WebAuthn): ceremony options, verification, and their single-use challenges.

The browser half is static/accounts/passkey.js. Challenges live in the session, are popped
on first use (so a captured response cannot be replayed) and expire after five minutes.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from defensa.accounts.models import Passkey, User

CHALLENGE_TTL_S = 300
# A real credential is a few kilobytes; anything much larger is not one.
MAX_BODY_BYTES = 32 * 1024
MAX_PASSKEYS = 10
_REGISTER = "defensa_webauthn_register"
_AUTHENTICATE = "defensa_webauthn_authenticate"


class PasskeyError(Exception):
    """A ceremony failed; `message` is translated and safe to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def get_passkey_for(user: User, pk: int) -> Passkey:
    """The person's own passkey, or 404 (another person's id looks like a missing one)."""
    passkey = Passkey.objects.filter(user=user, pk=pk).first()
    if passkey is None:
        raise Http404
    return passkey


def user_handle(user: User) -> bytes:
    # Stable per account, but neither the database id nor the email.
    return salted_hmac("defensa.accounts.passkey-user", str(user.pk), algorithm="sha256").digest()


def read_json(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object, or PasskeyError for anything else."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY_BYTES + 1
    if length > MAX_BODY_BYTES:
        raise PasskeyError(_("That request was too large."))
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise PasskeyError(_("That request was not understood. Reload the page and try again."))
    return data


def _store_challenge(request: HttpRequest, key: str, challenge: bytes) -> None:
    request.session[key] = {"challenge": bytes_to_base64url(challenge), "at": time.time()}


def _pop_challenge(request: HttpRequest, key: str) -> bytes:
    stored = request.session.pop(key, None)
    if not isinstance(stored, dict) or time.time() - stored.get("at", 0) > CHALLENGE_TTL_S:
        raise PasskeyError(_("The passkey request expired. Try again."))
    return base64url_to_bytes(stored["challenge"])


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id))
        for passkey in user.passkeys.all()  # type: ignore[attr-defined]
    ]


def registration_options(request: HttpRequest, user: User) -> str:
    """Options for navigator.credentials.create(), as JSON; remembers the challenge."""
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.NETWORK_NAME,
        user_name=user.email,
        user_id=user_handle(user),
        user_display_name=user.display_name or user.email,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    _store_challenge(request, _REGISTER, options.challenge)
    return options_to_json(options)


def verify_registration(request: HttpRequest, user: User, credential: Any) -> VerifiedRegistration:
    """Check a new credential against the pending challenge; PasskeyError if it fails."""
    challenge = _pop_challenge(request, _REGISTER)
    if not isinstance(credential, dict):
        raise PasskeyError(_("That passkey could not be checked. Try again."))
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=list(settings.WEBAUTHN_ORIGINS),
        )
    except Exception as exc:
        # Any malformed or tampered payload is a refusal, whatever the parser raised.
        raise PasskeyError(_("That passkey could not be checked. Try again.")) from exc
    if Passkey.objects.filter(credential_id=verified.credential_id).exists():
        raise PasskeyError(_("This passkey is already registered."))
    return verified


def authentication_options(request: HttpRequest, user: User) -> str:
    """Options for navigator.credentials.get() limited to this person's passkeys."""
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _store_challenge(request, _AUTHENTICATE, options.challenge)
    return options_to_json(options)


def verify_authentication(request: HttpRequest, user: User, credential: Any) -> Passkey:
    """Check an assertion by one of this person's passkeys; PasskeyError if it fails."""
    challenge = _pop_challenge(request, _AUTHENTICATE)
    refused = PasskeyError(_("That passkey was not accepted."))
    if not isinstance(credential, dict) or not isinstance(credential.get("rawId"), str):
        raise refused
    try:
        raw_id = base64url_to_bytes(credential["rawId"])
    except Exception as exc:
        raise refused from exc
    passkey = Passkey.objects.filter(user=user, credential_id=raw_id).first()
    if passkey is None:
        raise refused
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=list(settings.WEBAUTHN_ORIGINS),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except Exception as exc:
        raise refused from exc
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = timezone.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    return passkey
