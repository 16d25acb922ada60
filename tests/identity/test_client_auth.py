"""Client authentication at the token endpoint: basic secrets encoded right, assertions fresh and short."""

import base64

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from identity.oidc.client_auth import ASSERTION_TYPE, ClientSecretBasic, PrivateKeyJwt

ISSUER = "https://sso.example.gov.vn"


def test_client_secret_basic_form_encodes_before_base64():
    headers: dict[str, str] = {}
    ClientSecretBasic("gate way", "p@ss:word").apply({}, headers, ISSUER)
    decoded = base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode()
    assert decoded == "gate%20way:p%40ss%3Aword"


def test_private_key_jwt_assertions_are_fresh_short_and_aimed_at_the_issuer():
    key = ECKey.generate_key("P-256", parameters={"kid": "rp"}, private=True)
    credentials = PrivateKeyJwt("gateway", key.as_dict(private=True))
    first, second = {}, {}
    credentials.apply(first, {}, ISSUER)
    credentials.apply(second, {}, ISSUER)
    assert first["client_assertion_type"] == ASSERTION_TYPE and first["client_id"] == "gateway"
    one = jwt.decode(first["client_assertion"], key, algorithms=["ES256"])
    two = jwt.decode(second["client_assertion"], key, algorithms=["ES256"])
    assert one.claims["jti"] != two.claims["jti"]  # authlib reuses one when aud is overridden; we do not
    assert one.claims["aud"] == ISSUER and one.claims["iss"] == one.claims["sub"] == "gateway"
    assert one.claims["exp"] - one.claims["iat"] == 60 and one.header["kid"] == "rp"


def test_rsa_client_keys_sign_rs256():
    key = RSAKey.generate_key(2048, private=True)
    token = PrivateKeyJwt("gateway", key.as_dict(private=True)).assertion(ISSUER)
    assert jwt.decode(token, key, algorithms=["RS256"]).header["alg"] == "RS256"
