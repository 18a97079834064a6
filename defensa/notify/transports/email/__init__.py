"""Email over SMTP. On when EMAIL_HOST is set.

Errors are classified by SMTP reply code: 4xx is transient (greylisting, a full queue), 5xx is
permanent (no such mailbox, rejected). A connection that fails or drops is transient.
The Message-ID is derived from the delivery's idempotency key, so a message sent twice after a
worker crash carries the same id and mail systems that deduplicate by Message-ID show it once.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext_noop

from defensa.notify.transports import Rate, SendResult, Transport, TransportError, parse_rate

if TYPE_CHECKING:
    from defensa.notify.messages import Rendered
    from defensa.notify.models import Delivery


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

    @classmethod
    def is_enabled(cls) -> bool:
        return bool(settings.EMAIL_HOST)

    @property
    def rate_key(self) -> str:
        return f"email:{settings.EMAIL_HOST}:{settings.EMAIL_HOST_USER}"

    @property
    def rate(self) -> Rate | None:
        return parse_rate(settings.EMAIL_RATE)

    def message_id(self, delivery: Delivery) -> str:
        digest = hashlib.sha256(delivery.idempotency_key.encode()).hexdigest()[:40]
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "defensa.invalid"
        return f"<{digest}@{domain}>"

    def send(self, delivery: Delivery, message: Rendered, address: str) -> SendResult:
        if not address:
            raise TransportError(gettext_noop("no address to send to"), permanent=True)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers={
                "Message-ID": self.message_id(delivery),
                # Ask mail systems not to auto-reply (vacation notices) to alerts.
                "Auto-Submitted": "auto-generated",
            },
        )
        raw = email.message().as_bytes(linesep="\r\n")
        sender = email.from_email
        try:
            smtp = smtplib.SMTP(
                settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=settings.EMAIL_TIMEOUT
            )
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc) from exc
        try:
            if settings.EMAIL_USE_TLS:
                smtp.starttls(context=ssl.create_default_context())
            if settings.EMAIL_HOST_USER:
                smtp.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
            smtp.sendmail(sender, [address], raw)
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
