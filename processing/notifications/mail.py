"""E-mail over SMTP with aiosmtplib: a plain-text message to the user's address."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from core.settings import Settings


class EmailError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message[:300])
        self.permanent = permanent


def message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings.smtp_from, to, f"JivaPay: {subject}"
    mail.set_content(text)
    return mail


async def send(settings: Settings, to: str, subject: str, text: str) -> None:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            message(settings, to, subject, text),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            timeout=10,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise EmailError(f"smtp: recipient refused ({exc})", permanent=True) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise EmailError(f"smtp: {type(exc).__name__}", permanent=False) from None
