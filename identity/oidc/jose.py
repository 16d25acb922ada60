"""Compact JWS parsing and signature checks with algorithms pinned in code, never taken from the provider.

Only ``ES256`` and ``RS256`` are accepted: never ``none``, never an HMAC algorithm (which would let a
public key act as a shared secret), whatever discovery advertises. Keys come only from the provider's
JWKS, looked up by ``kid``; ``jku``, ``x5u`` and embedded ``jwk`` headers are ignored by construction.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from identity.errors import TokenRejected

PINNED_ALGORITHMS = ("ES256", "RS256")
#: Our tokens are a few KiB; anything near this is an attack (CVE-2024-33664-style resource abuse).
MAX_TOKEN_BYTES = 16 * 1024
_KEY_TYPE = {"ES256": ECKey, "RS256": RSAKey}


@dataclass(frozen=True)
class VerifiedJws:
    """A compact JWS whose signature checked out: its header and JSON payload."""

    header: dict[str, Any]
    payload: dict[str, Any]


def _b64_json(segment: str, what: str, prefix: str) -> Any:
    try:
        padded = segment + "=" * (-len(segment) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, RecursionError, UnicodeEncodeError):
        raise TokenRejected(f"{prefix}_malformed", f"{what} is not valid base64url JSON") from None


def read_header(token: object, prefix: str) -> dict[str, Any]:
    """Return the protected header of a compact JWS after size and shape checks (signature unchecked)."""
    if not isinstance(token, str) or not token:
        raise TokenRejected(f"{prefix}_missing")
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected(f"{prefix}_oversized")
    parts = token.split(".")
    if len(parts) == 5:
        raise TokenRejected(f"{prefix}_encrypted_unsupported")
    if len(parts) != 3:
        raise TokenRejected(f"{prefix}_malformed")
    header = _b64_json(parts[0], "the token header", prefix)
    if not isinstance(header, dict):
        raise TokenRejected(f"{prefix}_malformed")
    return header


def verify_jws(token: str, resolve_key: Callable[[str | None], Any], keys: Callable[[], KeySet],
               prefix: str = "id_token") -> VerifiedJws:
    """Check alg against the pinned list, pick the key by ``kid`` (or the only one), verify the signature."""
    header = read_header(token, prefix)
    alg = header.get("alg")
    if alg == "none":
        raise TokenRejected(f"{prefix}_alg_none")
    if alg not in PINNED_ALGORITHMS:
        raise TokenRejected(f"{prefix}_alg_not_allowed")
    if "crit" in header:
        raise TokenRejected(f"{prefix}_crit_unsupported")
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or len(kid) > 200):
        raise TokenRejected(f"{prefix}_kid_malformed")
    key = resolve_key(kid) if kid is not None else _only_key(keys(), alg, prefix)
    _check_key_fits(key, alg, prefix)
    try:
        signed = jws.deserialize_compact(token, key, algorithms=[alg])
    except JoseError:
        raise TokenRejected(f"{prefix}_signature_invalid") from None
    try:
        payload = json.loads(signed.payload)
    except (ValueError, RecursionError):
        raise TokenRejected(f"{prefix}_malformed") from None
    if not isinstance(payload, dict):
        raise TokenRejected(f"{prefix}_malformed")
    return VerifiedJws(header, payload)


def _only_key(keys: KeySet, alg: str, prefix: str) -> Any:
    # Without a kid we accept only an unambiguous choice (OpenID RP test kid-absent-multiple-jwks).
    candidates = [key for key in keys.keys if isinstance(key, _KEY_TYPE[alg])]
    if len(candidates) != 1:
        raise TokenRejected(f"{prefix}_kid_absent_multiple_keys" if candidates else f"{prefix}_kid_unknown")
    return candidates[0]


def _check_key_fits(key: Any, alg: str, prefix: str) -> None:
    if not isinstance(key, _KEY_TYPE[alg]):
        raise TokenRejected(f"{prefix}_key_type_mismatch")
    declared = key.get("alg")
    if declared and declared != alg:
        raise TokenRejected(f"{prefix}_key_alg_mismatch")
    if isinstance(key, ECKey) and key.get("crv") != "P-256":
        raise TokenRejected(f"{prefix}_key_type_mismatch")
    if isinstance(key, RSAKey) and key.raw_value.key_size < 2048:
        raise TokenRejected(f"{prefix}_key_too_weak")


def half_hash(value: str) -> str:
    """Return the left-most half of SHA-256 of ``value``, base64url (``at_hash`` for ES256 and RS256)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")
