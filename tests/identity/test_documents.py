"""Signed documents: ES256 only, our keys only, the right type only; rotation keeps old signatures valid."""

from __future__ import annotations

import base64
import json

import pytest

from identity.documents import DocumentRejected, DocumentSigner


@pytest.fixture()
def signer(tmp_path):
    return DocumentSigner(tmp_path / "document_keys.json")


def test_a_signed_document_verifies_with_its_vietnamese_text(signer):
    token = signer.sign_document({"payer": "Lê Minh Châu", "amount": 200000}, typ="receipt+jws")
    assert signer.verify_document(token, typ="receipt+jws") == {"payer": "Lê Minh Châu", "amount": 200000}


def test_rotation_keeps_old_documents_valid_until_the_key_is_retired(signer):
    old = signer.sign_document({"n": 1}, typ="receipt+jws")
    old_kid = signer.keys.signing_key().kid
    signer.keys.rotate()
    new = signer.sign_document({"n": 2}, typ="receipt+jws")
    assert signer.verify_document(old, typ="receipt+jws") == {"n": 1}
    assert signer.verify_document(new, typ="receipt+jws") == {"n": 2}
    signer.keys.retire(old_kid)
    with pytest.raises(DocumentRejected):
        signer.verify_document(old, typ="receipt+jws")
    assert len(signer.public_jwks()["keys"]) == 1


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _hs256_with_our_public_key(signer) -> str:
    """The classic algorithm-confusion forgery: HMAC keyed with our (public) verification key."""
    import hashlib
    import hmac

    public = signer.public_jwks()["keys"][0]
    head = _b64({"alg": "HS256", "kid": public["kid"], "typ": "receipt+jws"})
    body = _b64({"amount": 1})
    mac = hmac.new(json.dumps(public).encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


@pytest.mark.parametrize("forge", ["payload", "none", "other_type", "other_signer", "garbage", "empty",
                                   "hs256_confusion"])
def test_forged_or_foreign_documents_are_rejected(signer, tmp_path, forge):
    token = signer.sign_document({"amount": 200000}, typ="receipt+jws")
    header, _, signature = token.split(".")
    forged = {
        "payload": f"{header}.{_b64({'amount': 1})}.{signature}",
        "none": f"{_b64({'alg': 'none', 'typ': 'receipt+jws'})}.{_b64({'amount': 1})}.",
        "other_type": signer.sign_document({"amount": 200000}, typ="something-else"),
        "other_signer": DocumentSigner(tmp_path / "other.json").sign_document({"a": 1}, typ="receipt+jws"),
        "garbage": "not.a.token",
        "empty": "",
        "hs256_confusion": _hs256_with_our_public_key(signer),
    }[forge]
    with pytest.raises(DocumentRejected):
        signer.verify_document(forged, typ="receipt+jws")


def test_the_key_file_is_private(signer, tmp_path):
    signer.sign_document({}, typ="receipt+jws")
    assert (tmp_path / "document_keys.json").stat().st_mode & 0o077 == 0
    assert signer.keys.signing_key().kid.startswith("doc-")
