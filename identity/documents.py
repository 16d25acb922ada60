"""Signed documents (compact JWS, ES256, python-jose) that anyone can verify: e-receipts and their QR tokens.

Keys are kept like the stand-in's (``identity.devidp.keys.SigningKeys``): a private JSON key file under
the instance folder, generated on first use, rotatable (a new key signs from then on, old ones keep
verifying until retired). The algorithm is pinned to ES256; the key is chosen by ``kid`` among our own
keys only, never from the token.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jose import jws
from jose.exceptions import JOSEError

from identity.devidp.keys import SigningKeys
from identity.errors import IdentityError

ALGORITHM = "ES256"
MAX_DOCUMENT_BYTES = 64 * 1024


class DocumentRejected(IdentityError):
    """A signed document that is malformed, too large, of another type, or whose signature fails."""

    code = "document_rejected"


class DocumentSigner:
    """Signs and verifies JSON documents with a rotatable ES256 key set."""

    def __init__(self, key_file: Path):
        self.keys = SigningKeys(key_file, kid_prefix="doc")

    def sign_document(self, payload: dict[str, Any], *, typ: str) -> str:
        """Return ``payload`` as a compact JWS signed with the current key (``typ`` names the kind)."""
        key = self.keys.signing_key()
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return jws.sign(body.encode(), key.as_dict(private=True), headers={"kid": key.kid, "typ": typ},
                        algorithm=ALGORITHM)

    def verify_document(self, token: str, *, typ: str) -> dict[str, Any]:
        """Return the payload of a token signed by one of our keys as ``typ``; raise DocumentRejected."""
        if not isinstance(token, str) or not token or len(token) > MAX_DOCUMENT_BYTES:
            raise DocumentRejected("no signed document, or one too large")
        try:
            header = jws.get_unverified_header(token.strip())
            # The key is one of ours, chosen by kid; the algorithm is pinned, never taken from the token.
            key = next((k for k in self.keys.public_jwks()["keys"] if k.get("kid") == header.get("kid")), None)
            if key is None or header.get("alg") != ALGORITHM:
                raise DocumentRejected("not signed by one of our keys")
            payload = json.loads(jws.verify(token.strip(), key, algorithms=[ALGORITHM]))
        except (JOSEError, ValueError, TypeError, KeyError):
            raise DocumentRejected("the signature does not verify") from None
        if header.get("typ") != typ or not isinstance(payload, dict):
            raise DocumentRejected("this is not that kind of document")
        return payload

    def public_jwks(self) -> dict[str, Any]:
        """The public keys, for anyone verifying offline."""
        return self.keys.public_jwks()
