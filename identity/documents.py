"""Signed documents (compact JWS, ES256, python-jose) that anyone can verify: e-receipts and their QR tokens.

The keys are derived from secrets in the configuration (``DerivedSigningKeys``), not kept in a file:
every worker of every node started with the same settings signs and verifies with the same keys, so a
receipt signed on one node verifies on another, and nothing has to be copied between hosts. Rotation
is a configuration change: the first secret signs, the others keep verifying until they are removed.
The algorithm is pinned to ES256; the key is chosen by ``kid`` among our own keys only, never from
the token.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jose import jws
from jose.exceptions import JOSEError
from joserfc.jwk import ECKey

from identity.errors import IdentityError

ALGORITHM = "ES256"
MAX_DOCUMENT_BYTES = 64 * 1024


class DocumentRejected(IdentityError):
    """A signed document that is malformed, too large, of another type, or whose signature fails."""

    code = "document_rejected"


#: The order of the P-256 group: a derived private scalar must lie in [1, n-1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class KeySet(Protocol):
    """Where a signer's keys come from: the one that signs, and every key that still verifies."""

    def signing_key(self) -> ECKey: ...

    def public_jwks(self) -> dict[str, Any]: ...


class DerivedSigningKeys:
    """ES256 keys derived from secrets (HKDF-SHA256): the first signs, all of them verify."""

    def __init__(self, secrets: Sequence[str], *, kid_prefix: str = "doc"):
        if not secrets:
            raise ValueError("at least one document signing secret is needed")
        self._keys = [_derive_key(secret, kid_prefix) for secret in secrets]

    def signing_key(self) -> ECKey:
        """Return the key that signs new documents (the first secret's)."""
        return self._keys[0]

    def public_jwks(self) -> dict[str, Any]:
        """Return the published JWKS (public halves only)."""
        return {"keys": [key.as_dict(private=False) for key in self._keys]}


def _derive_key(secret: str, kid_prefix: str) -> ECKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=48, salt=None,
                info=b"gateway/document-signing/es256").derive(secret.encode())
    # 48 bytes reduced modulo n-1 leave a bias below 2^-128: uniform for every practical purpose.
    private = ec.derive_private_key(int.from_bytes(seed, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
    # The kid names the key, not the secret: a digest of the public point.
    kid = f"{kid_prefix}-{hashlib.sha256(public).hexdigest()[:12]}"
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return ECKey.import_key(pem, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})


class DocumentSigner:
    """Signs and verifies JSON documents with a rotatable ES256 key set."""

    def __init__(self, keys: KeySet):
        self.keys = keys

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
