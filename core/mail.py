"""Sending e-mail: one message type, an SMTP sender and a stand-in that only logs, and address masking.

* An e-mail address is personal data (Decree 13/2023): it is never written to a log in clear.
  ``mask_email`` keeps the first character of the mailbox and of the domain: ``a***@e***.vn``.
* ``SmtpMailer`` sends through the configured relay (STARTTLS, or TLS from the first byte on port 465)
  and raises ``MailNotSent`` with the server's answer, the address masked, so the job that called it is
  retried and the log says why.
* ``LogMailer`` stands in outside production when no relay is configured: the message is written to the
  log as "not sent: no SMTP configured", masked, and counts as delivered.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

log = logging.getLogger(__name__)

#: What could be an address in free text (an SMTP server's answer, an exception message).
_ADDRESS = re.compile(r"([A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]*@([A-Za-z0-9-])[A-Za-z0-9.-]*?(\.[A-Za-z]{2,})\b")
#: A usable mailbox: one @, no spaces or angle brackets, a dotted domain (RFC 5321 lengths).
_MAILBOX = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+")
TIMEOUT_SECONDS = 15
#: How messages go on the wire: CRLF, and a header in one encoded word. Python's folding of a long non-ASCII
#: header into several encoded words drops the space at each fold ("Phiếu lý" arrives as "Phiếulý").
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


def mask_email(address: str) -> str:
    """Show only the first character of the mailbox and of the domain: ``an@example.vn`` -> ``a***@e***.vn``."""
    return mask_emails(address)


def mask_emails(text: str) -> str:
    """Mask every e-mail address inside ``text``."""
    return _ADDRESS.sub(r"\1***@\2***\3", text)


def valid_mailbox(address: str) -> bool:
    """Whether ``address`` is a plain mailbox we can send to (``name@domain.tld``, at most 254 characters)."""
    return len(address) <= 254 and _MAILBOX.fullmatch(address) is not None


@dataclass(frozen=True)
class Mail:
    """One message to one person: plain text, optionally with files attached."""

    to: str
    subject: str
    body: str
    #: Stable per logical message (e.g. per receipt), so a receiving system can drop a resend.
    message_id: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = field(default=())  # (filename, MIME type, content)
    language: str = "vi"


class MailNotSent(RuntimeError):
    """The relay refused or could not be reached; the message says why, with addresses masked."""


class Mailer(Protocol):
    """Sends one message or raises ``MailNotSent``."""

    def send(self, mail: Mail) -> None: ...


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message for ``mail`` from ``sender``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = mail.message_id or make_msgid()
    message["Content-Language"] = mail.language
    message.set_content(mail.body, cte="quoted-printable")  # 7-bit safe: no relay needs 8BITMIME
    for filename, mime_type, content in mail.attachments:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


@dataclass(frozen=True)
class SmtpMailer:
    """Sends through an SMTP relay; the password is never logged (it is in the settings' secrets)."""

    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = True

    def send(self, mail: Mail) -> None:
        message = build_message(mail, self.sender)
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.sendmail(parseaddr(self.sender)[1], [mail.to], message.as_bytes(policy=WIRE_POLICY))
        except (smtplib.SMTPException, OSError) as exc:
            raise MailNotSent(mask_emails(f"{type(exc).__name__}: {exc}")[:500]) from None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.port == 465:  # implicit TLS (submissions), where STARTTLS does not apply
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        try:
            if self.starttls:
                smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
        return smtp


@dataclass(frozen=True)
class LogMailer:
    """Outside production with no relay configured: the message goes to the log, masked, and nowhere else."""

    sender: str

    def send(self, mail: Mail) -> None:
        log.info("mail not sent: no SMTP configured", extra={
            "mail_to": mask_email(mail.to), "mail_subject": mask_emails(mail.subject),
            "mail_body": mask_emails(mail.body), "attachments": [name for name, _, _ in mail.attachments]})
