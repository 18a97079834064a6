"""Email over SMTP. On when EMAIL_HOST is set.

Errors are classified by SMTP reply code: 4xx is transient (greylisting, a full queue), 5xx is
permanent (no such mailbox, rejected). A connection that fails or drops is transient.
The Message-ID is derived from the delivery's idempotency key, so a message sent twice after a
worker crash carries the same id and mail systems that deduplicate by Message-ID show it once.
"""

from __future__ import annotations

import email.errors
import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import TYPE_CHECKING, ClassVar

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

if TYPE_CHECKING:
    from defensa.notify.models import Delivery


# RFC 5321 4.5.2: a line starting with "." gets another one (what smtplib.data() does).
_DOT_STUFF = re.compile(rb"(?m)^\.")


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:200]


def classify(exc: Exception) -> TransportError:
    """Turn an smtplib or socket error into a TransportError (4xx/network transient, 5xx not)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # One recipient per message: its reply decides.
        code, reply = next(iter(exc.recipients.values()), (450, b"refused"))
        return TransportError(f"SMTP {code}: {_reply_text(reply)}", permanent=code >= 500)
    if isinstance(exc, smtplib.SMTPResponseException):
        # Covers SMTPSenderRefused, SMTPDataError, SMTPAuthenticationError, SMTPHeloError.
        code = exc.smtp_code
        return TransportError(f"SMTP {code}: {_reply_text(exc.smtp_error)}", permanent=code >= 500)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # e.g. STARTTLS required by our settings but not offered: retrying will not help.
        return TransportError(f"SMTP server does not support: {exc}", permanent=True)
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return TransportError(f"SMTP connection failed: {type(exc).__name__}", permanent=False)
    return TransportError(f"SMTP error: {type(exc).__name__}", permanent=False)


class EmailTransport(Transport):
    kind: ClassVar[str] = "email"
    channels: ClassVar[tuple[str, ...]] = ("email",)
    # Connect, greet and name the recipient first; the rate slot gates only DATA, so the
    # provider sees messages as evenly spaced as the slots.
    takes_own_slot: ClassVar[bool] = True

    @classmethod
    def is_enabled(cls) -> bool:
        return bool(settings.EMAIL_HOST)

    @property
    def rate_key(self) -> str:
        return f"email:{settings.EMAIL_HOST}:{settings.EMAIL_HOST_USER}"

    @property
    def rate(self) -> Rate | None:
        return parse_rate(settings.EMAIL_RATE)

    def helo_name(self) -> str:
        return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "defensa.invalid"

    def message_id(self, delivery: Delivery) -> str:
        digest = hashlib.sha256(delivery.idempotency_key.encode()).hexdigest()[:40]
        return f"<{digest}@{self.helo_name()}>"

    def build(self, delivery: Delivery, subject: str, body: str, address: str) -> bytes:
        """The message as it travels, folded by the modern SMTP policy.

        Django's compat32 folding starts a long encoded Subject on a new line, and readers
        then show it with a leading space.
        """
        msg = EmailMessage(policy=SMTP)
        msg["Subject"] = subject
        msg["From"] = settings.DEFAULT_FROM_EMAIL
        msg["To"] = address
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = self.message_id(delivery)
        # Ask mail systems not to auto-reply (vacation notices) to alerts.
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(body, cte="quoted-printable")
        return msg.as_bytes()

    def send(self, delivery: Delivery, out: Outgoing) -> SendResult:
        message, address = out.message, out.to
        if not address:
            raise TransportError(gettext_noop("no address to send to"), permanent=True)
        try:
            raw = self.build(delivery, message.subject, message.body, address)
        except (ValueError, TypeError, email.errors.MessageError) as exc:
            unusable = gettext_noop("not a usable email address")
            raise TransportError(unusable, permanent=True) from exc
        sender = settings.DEFAULT_FROM_EMAIL
        try:
            smtp = smtplib.SMTP(
                settings.EMAIL_HOST,
                settings.EMAIL_PORT,
                # Not socket.getfqdn(): a DNS lookup per message adds jitter that would bunch
                # rate-limited sends together, and the machine's name is nobody's business.
                local_hostname=self.helo_name(),
                timeout=settings.EMAIL_TIMEOUT,
            )
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc) from exc
        try:
            if settings.EMAIL_USE_TLS:
                smtp.starttls(context=ssl.create_default_context())
            if settings.EMAIL_HOST_USER:
                smtp.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            code, reply = smtp.rcpt(address)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({address: (code, reply)})
            # DATA is agreed before the slot; after it only the message itself travels, so
            # the provider sees it as close to the slot as the network allows.
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            out.take_slot()
            smtp.send(_DOT_STUFF.sub(b"..", raw).rstrip(b"\r\n") + b"\r\n.\r\n")
            code, reply = smtp.getreply()
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc) from exc
        finally:
            # Once the server has accepted the data, a failing QUIT must not turn a sent
            # message into a retry (and a duplicate).
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        return SendResult(provider_message_id=self.message_id(delivery).strip("<>"))
