"""Test-only switches that make the stand-in misbehave, one attack each (research note section 9).

They are honoured only when the stand-in was built with ``allow_faults=True``, which the gateway does in
test mode alone; in development and production the switches do not exist.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from joserfc import jws, jwt
from joserfc.jwk import ECKey, OctKey

from identity.devidp.keys import SigningKeys

#: Every switch, and what it breaks.
FAULTS: dict[str, str] = {
    "wrong_issuer": "iss differs by a trailing slash",
    "wrong_audience": "aud names another client",
    "aud_other_with_azp": "aud lists only another client, azp names ours",
    "multi_aud_no_azp": "aud lists ours and another, without azp",
    "expired": "exp in the past",
    "iat_future": "iat ten minutes ahead",
    "iat_old": "iat an hour ago (exp still ahead)",
    "nbf_future": "nbf ten minutes ahead",
    "bad_nonce": "nonce of another flow",
    "no_nonce": "no nonce",
    "alg_none": "unsigned token, alg none",
    "alg_hs256_jwk": "HS256 MACed with the public JWK as the secret",
    "unknown_kid": "signed by a key not in the JWKS, with a new kid",
    "untrusted_key": "signed by a key not in the JWKS, claiming the real kid",
    "no_kid": "kid left out of the header",
    "bad_signature": "payload altered after signing",
    "bad_at_hash": "at_hash of another access token",
    "acr_missing": "no acr claim",
    "embedded_jwk": "signed by the attacker's key, which is embedded in the header (jwk) with jku/x5u",
    "userinfo_other_sub": "userinfo answers for another subject",
    "no_iss_param": "authorization response without iss",
    "wrong_iss_param": "authorization response iss of another provider",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def alter_claims(claims: dict[str, Any], faults: set[str], client_id: str) -> dict[str, Any]:
    """Return ``claims`` with the claim-level faults applied."""
    claims = dict(claims)
    now = claims["iat"]
    edits = {
        "wrong_issuer": lambda c: c.update(iss=c["iss"] + "/"),
        "wrong_audience": lambda c: c.update(aud="another-client", azp="another-client"),
        "aud_other_with_azp": lambda c: c.update(aud=["another-client"], azp=client_id),
        "multi_aud_no_azp": lambda c: (c.update(aud=[client_id, "another-client"]), c.pop("azp", None)),
        "expired": lambda c: c.update(iat=now - 400, exp=now - 100),
        "iat_future": lambda c: c.update(iat=now + 600, exp=now + 900),
        "iat_old": lambda c: c.update(iat=now - 3600),
        "nbf_future": lambda c: c.update(nbf=now + 600),
        "bad_nonce": lambda c: c.update(nonce=secrets.token_urlsafe(32)),
        "no_nonce": lambda c: c.pop("nonce", None),
        "bad_at_hash": lambda c: c.update(at_hash=_b64(secrets.token_bytes(16))),
        "acr_missing": lambda c: c.pop("acr", None),
    }
    for name, edit in edits.items():
        if name in faults:
            edit(claims)
    return claims


def sign(keys: SigningKeys, claims: dict[str, Any], faults: set[str]) -> str:
    """Sign ``claims`` with the current key, or forge the token a signing fault asks for."""
    key = keys.signing_key()
    header = {"alg": "ES256", "typ": "JWT", "kid": key.kid}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    if "alg_none" in faults:
        return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(payload)}."
    if "alg_hs256_jwk" in faults:
        secret = OctKey.import_key(json.dumps(keys.public_jwks()["keys"][0]).encode())
        return jwt.encode({"alg": "HS256", "kid": key.kid}, claims, secret, algorithms=["HS256"])
    if "unknown_kid" in faults or "untrusted_key" in faults or "embedded_jwk" in faults:
        rogue = ECKey.generate_key("P-256", private=True)
        kid = key.kid if "untrusted_key" in faults else f"rogue-{secrets.token_hex(4)}"
        header = {"alg": "ES256", "kid": kid}
        if "embedded_jwk" in faults:
            header = {"alg": "ES256", "jwk": rogue.as_dict(private=False), "jku": "https://evil.example/jwks",
                      "x5u": "https://evil.example/cert"}
        return jws.serialize_compact(header, payload, rogue, algorithms=["ES256"])
    if "no_kid" in faults:
        header.pop("kid")
    token = jws.serialize_compact(header, payload, key, algorithms=["ES256"])
    if "bad_signature" in faults:
        head, body, signature = token.split(".")
        tampered = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        tampered["sub"] = "someone-else"
        token = f"{head}.{_b64(json.dumps(tampered).encode())}.{signature}"
    return token
