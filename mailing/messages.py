"""The e-mails' words: a receipt and a payment reminder, in the citizen's language (Vietnamese by default).

The text goes through the same catalogue as the pages (web/translations, ``make translations``), read with
Babel directly: the worker has no Flask app. Amounts are written as on the pages (``200.000 ₫``), times in
Asia/Ho_Chi_Minh as ``dd/mm/yyyy HH:MM``, services by name. No name nor ID number of the payer is in a
message: a mailbox may be shared or forwarded, and the receipt itself is one login away.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from urllib.parse import urlencode, urlsplit

from babel.support import NullTranslations, Translations
from sqlalchemy.orm import Session

from core.clock import to_vietnam
from core.mail import Mail
from core.money import Money, format_money
from core.settings import PROJECT_ROOT
from payments.models.billing import Bill
from payments.models.receipts import Receipt
from payments.receipts import receipt_number
from subsidies.catalogue import Service

TRANSLATIONS = PROJECT_ROOT / "web" / "translations"


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of ``language``; English is the source language, so it needs none."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language])


def vietnam_time(value: datetime) -> str:
    """``29/11/2026 13:07`` in Asia/Ho_Chi_Minh."""
    return to_vietnam(value).strftime("%d/%m/%Y %H:%M")


def service_name(session: Session, code: str, language: str) -> str:
    """The service's name from the fee catalogue; its code only if the catalogue does not know it."""
    service = session.get(Service, code)
    return service.name(language) if service is not None else code


def _host(base_url: str) -> str:
    return urlsplit(base_url).hostname or "localhost"


def receipt_mail(session: Session, receipt: Receipt, *, to: str, language: str, base_url: str) -> Mail:
    """The e-mail carrying one receipt: number, amount, time, service, and links to it and its verification."""
    _ = translations(language).gettext
    number = receipt_number(receipt)
    service = service_name(session, receipt.service_code, language)
    amount = format_money(Money(receipt.amount_paid, receipt.currency), language)
    page = f"{base_url}/receipts/{receipt.public_id}"
    verify = f"{base_url}/receipts/verify?" + urlencode({"number": number, "amount": receipt.amount_paid})
    lines = [
        _("Hello,"),
        "",
        _("The city payment gateway has issued your receipt."),
        "",
        f"{_('Receipt number')}: {number}",
        f"{_('Service')}: {service}",
        f"{_('Amount paid')}: {amount}",
        f"{_('Collected at')}: {vietnam_time(receipt.collected_at)}",
        "",
        _("See the receipt (after logging in with VNeID): %(url)s") % {"url": page},
        _("Download it as a PDF: %(url)s") % {"url": page + ".pdf"},
        _("Anyone can check that it is genuine: %(url)s") % {"url": verify},
        "",
        *_footer(_, base_url),
    ]
    return Mail(to=to, subject=_("Receipt %(number)s: %(service)s") % {"number": number, "service": service},
                body="\n".join(lines), message_id=f"<receipt.{receipt.public_id}@{_host(base_url)}>",
                language=language)


def reminder_mail(session: Session, bill: Bill, *, to: str, language: str, base_url: str, lead_days: int) -> Mail:
    """The reminder that a bill is due on its due date, with the link to pay it."""
    _ = translations(language).gettext
    service = service_name(session, bill.service_code, language)
    due = _day(bill.due_date)
    lines = [
        _("Hello,"),
        "",
        _("A bill of yours is due soon."),
        "",
        f"{_('Service')}: {service}",
        f"{_('Amount due')}: {format_money(Money(bill.amount_due, bill.currency), language)}",
        f"{_('Due date')}: {due}",
        "",
        _("Pay it online (after logging in with VNeID): %(url)s") % {"url": f"{base_url}/bills/{bill.public_id}"},
        _("If you have paid it already, there is nothing more to do."),
        "",
        *_footer(_, base_url),
    ]
    return Mail(to=to, subject=_("Reminder: %(service)s is due on %(date)s") % {"service": service, "date": due},
                body="\n".join(lines), message_id=f"<reminder.{bill.public_id}.{lead_days}@{_host(base_url)}>",
                language=language)


def _footer(_, base_url: str) -> list[str]:
    return [
        "--",
        _("City payment gateway"),
        _("You receive this e-mail because you asked for receipts and reminders by e-mail. To stop them, "
          "withdraw your consent on your account page: %(url)s") % {"url": f"{base_url}/account/"},
    ]


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""
