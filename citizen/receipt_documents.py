"""Receipts as documents: the signed JSON (JWS), the short verification token behind the QR code, the PDF.

* The full document is ``payments.receipts.receipt_document`` signed by ``identity.documents`` (ES256,
  rotatable keys in the instance folder). It is what a citizen downloads and anyone can check offline.
* The QR code carries a much shorter signed token (receipt id, number, amount, time, and the SHA-256 of
  the signed document's canonical JSON) so it scans easily; ``/receipts/verify`` checks its signature and
  compares it with the receipt as stored, showing whether it is still valid (a refund cancels it).
* Without the code, a receipt is checked by its printed number plus the amount paid: the number alone
  is sequential and would let anyone read other people's receipts, so both must match, and a miss says
  only that no receipt has that number and amount.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

import segno
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings
from identity.documents import DerivedSigningKeys, DocumentRejected, DocumentSigner
from payments.models.receipts import Receipt
from payments.receipts import receipt_document, receipt_number

DOCUMENT_TYPE = "receipt+jws"
TOKEN_TYPE = "receipt-check+jws"


def init_app(app: Flask) -> DocumentSigner:
    """Create the document signer from the configured secrets (the same keys on every node)."""
    settings = app.extensions["gateway.settings"]
    signer = DocumentSigner(DerivedSigningKeys(document_signing_secrets(settings)))
    app.extensions["gateway.documents"] = signer
    return signer


def document_signing_secrets(settings: Settings) -> tuple[str, ...]:
    """The configured signing secrets, or one derived from the secret key when none is configured."""
    if settings.document_signing_secrets:
        return settings.document_signing_secrets
    return (hmac.new(settings.secret_key.encode(), b"document-signing", hashlib.sha256).hexdigest(),)


def signer() -> DocumentSigner:
    """The current app's document signer (created on first use)."""
    return current_app.extensions.get("gateway.documents") or init_app(current_app)


def _fingerprint(receipt: Receipt) -> str:
    # The status is left out: a later cancellation is reported by the verify page, not a forgery.
    document = {k: v for k, v in receipt_document(receipt).items() if k != "status"}
    canonical = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def signed_receipt(receipt: Receipt) -> str:
    """The receipt's canonical JSON document, signed (compact JWS)."""
    return signer().sign_document(receipt_document(receipt), typ=DOCUMENT_TYPE)


def verification_token(receipt: Receipt) -> str:
    """The short signed token the QR code links to."""
    claims = {"rid": receipt.public_id, "no": receipt_number(receipt), "amt": receipt.amount_paid,
              "cur": receipt.currency, "at": receipt.collected_at.isoformat(), "sha256": _fingerprint(receipt)}
    return signer().sign_document(claims, typ=TOKEN_TYPE)


def qr_data_uri(url: str) -> str:
    """An SVG QR code of ``url`` as a data URI (for the PDF and the page)."""
    return segno.make(url, error="l").svg_data_uri(scale=4, border=2)


@dataclass(frozen=True)
class Verification:
    """What the verify page shows: whether the signature held, the receipt as stored, and whether it matches."""

    valid_signature: bool
    receipt: Receipt | None = None
    matches: bool = False
    claims: dict[str, Any] | None = None
    #: Checked by printed number and amount (nothing was signed, so ``valid_signature`` is moot).
    by_number: bool = False


def verify(session: Session, token: str) -> Verification:
    """Check a QR token or a full signed receipt against our keys and the stored receipt."""
    claims = _claims(token)
    if claims is None:
        return Verification(False)
    receipt = session.scalars(select(Receipt).where(Receipt.public_id == claims["rid"])).one_or_none()
    if receipt is None:
        return Verification(True, None, False, claims)
    same = (claims["no"] == receipt_number(receipt) and claims["amt"] == receipt.amount_paid
            and claims.get("sha256") in (None, _fingerprint(receipt)))
    return Verification(True, receipt, same, claims)


#: A printed receipt number: the series, two digits of the year, a dash, the number (BLTT26-0000042).
_NUMBER = re.compile(r"(?P<series>[A-Z0-9]+?)(?P<yy>\d{2})-(?P<sequence>\d{1,9})")


def looks_like_number(text: str) -> bool:
    """Whether ``text`` is a printed receipt number rather than a signed code."""
    return _NUMBER.fullmatch(text.strip().upper()) is not None


def verify_by_number(session: Session, number: str, amount: int) -> Verification:
    """Find the receipt printed with ``number`` whose amount paid is ``amount`` (both must match)."""
    found = _NUMBER.fullmatch(number.strip().upper())
    if found is None:
        return Verification(True, by_number=True)
    # Receipts carry the full year; the printed two digits are this century's (Decree 123 numbering).
    receipt = session.scalars(select(Receipt).where(
        Receipt.series == found["series"], Receipt.year == 2000 + int(found["yy"]),
        Receipt.number == int(found["sequence"]), Receipt.amount_paid == amount)).one_or_none()
    return Verification(True, receipt, receipt is not None, by_number=True)


def _claims(token: str) -> dict[str, Any] | None:
    """The token's claims in the short form, whichever of the two kinds it is; None if it does not verify."""
    for typ in (TOKEN_TYPE, DOCUMENT_TYPE):
        try:
            payload = signer().verify_document(token, typ=typ)
        except DocumentRejected:
            continue
        if typ == TOKEN_TYPE:
            return payload
        return {"rid": payload.get("receipt_id"), "no": payload.get("number"), "amt": payload.get("amount_paid")}
    return None


def receipt_pdf(html: str) -> bytes:
    """Render the printable receipt HTML (Noto Sans, Vietnamese text) as a PDF with WeasyPrint."""
    from weasyprint import HTML  # loads Pango only when a PDF is asked for

    return HTML(string=html).write_pdf()
