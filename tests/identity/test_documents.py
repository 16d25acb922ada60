"""Signed documents: ES256 only, our keys only, the right type only; rotation keeps old signatures valid."""

from __future__ import annotations

import base64
import json

import pytest

from identity.documents import DerivedSigningKeys, DocumentRejected, DocumentSigner

SECRET, NEXT_SECRET = "document-signing-secret-" + "a" * 16, "document-signing-secret-" + "b" * 16


@pytest.fixture()
def signer():
    return DocumentSigner(DerivedSigningKeys([SECRET]))


def test_a_signed_document_verifies_with_its_vietnamese_text(signer):
    token = signer.sign_document({"payer": "Lê Minh Châu", "amount": 200000}, typ="receipt+jws")
    assert signer.verify_document(token, typ="receipt+jws") == {"payer": "Lê Minh Châu", "amount": 200000}


def test_rotation_keeps_old_documents_valid_until_the_key_is_retired(signer):
    old = signer.sign_document({"n": 1}, typ="receipt+jws")
    rotated = DocumentSigner(DerivedSigningKeys([NEXT_SECRET, SECRET]))  # the new secret first
    new = rotated.sign_document({"n": 2}, typ="receipt+jws")
    assert rotated.keys.signing_key().kid != signer.keys.signing_key().kid
    assert rotated.verify_document(old, typ="receipt+jws") == {"n": 1}
    assert rotated.verify_document(new, typ="receipt+jws") == {"n": 2}
    retired = DocumentSigner(DerivedSigningKeys([NEXT_SECRET]))
    with pytest.raises(DocumentRejected):
        retired.verify_document(old, typ="receipt+jws")
    assert len(retired.public_jwks()["keys"]) == 1


def test_every_process_with_the_same_settings_verifies_the_others_documents(signer):
    # Two nodes share no files: each derives the keys from the configuration alone.
    other_node = DocumentSigner(DerivedSigningKeys([SECRET]))
    token = signer.sign_document({"receipt": "BLTT26-0000001"}, typ="receipt+jws")
    assert other_node.verify_document(token, typ="receipt+jws") == {"receipt": "BLTT26-0000001"}
    assert other_node.public_jwks() == signer.public_jwks()


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
def test_forged_or_foreign_documents_are_rejected(signer, forge):
    token = signer.sign_document({"amount": 200000}, typ="receipt+jws")
    header, _, signature = token.split(".")
    forged = {
        "payload": f"{header}.{_b64({'amount': 1})}.{signature}",
        "none": f"{_b64({'alg': 'none', 'typ': 'receipt+jws'})}.{_b64({'amount': 1})}.",
        "other_type": signer.sign_document({"amount": 200000}, typ="something-else"),
        "other_signer": DocumentSigner(DerivedSigningKeys([NEXT_SECRET])).sign_document({"a": 1}, typ="receipt+jws"),
        "garbage": "not.a.token",
        "empty": "",
        "hs256_confusion": _hs256_with_our_public_key(signer),
    }[forge]
    with pytest.raises(DocumentRejected):
        signer.verify_document(forged, typ="receipt+jws")


def test_the_published_keys_hold_no_private_part_and_name_no_secret(signer):
    [public] = signer.public_jwks()["keys"]
    assert "d" not in public and public["kid"].startswith("doc-") and SECRET not in str(public)
    with pytest.raises(ValueError):
        DerivedSigningKeys([])
