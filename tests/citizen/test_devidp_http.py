"""The stand-in's HTTP endpoints under /dev-idp, used the way an outside relying party would use them."""

import html
from urllib.parse import urlsplit

from identity.oidc.http import HttpResponse
from identity.oidc.provider_keys import ProviderKeys
from identity.oidc.relying_party import RelyingParty
from tests.web.oidc_support import _HIDDEN, HN_LEVEL2, local, query
from web.identity_runtime import get_identity

BROWSER = "b" * 43


class OverFlask:
    """``HttpClient`` that sends the relying party's back-channel calls through the app's real routes."""

    def __init__(self, client):
        self.client = client

    def get(self, url, headers=None):
        response = self.client.get(local(url), headers=dict(headers or {}))
        return HttpResponse(response.status_code, response.get_data(), dict(response.headers))

    def post_form(self, url, data, headers=None):
        response = self.client.post(urlsplit(url).path, data=dict(data), headers=dict(headers or {}))
        return HttpResponse(response.status_code, response.get_data(), dict(response.headers))


def test_an_outside_relying_party_logs_in_over_the_http_endpoints(app, client, db):
    realm = get_identity(app).citizen
    http = OverFlask(app.test_client())
    rp = RelyingParty(realm.config, ProviderKeys(realm.config.issuer, http), http)
    chooser = client.get(local(rp.authorization_url(db, next_path="/", browser_key=BROWSER)))
    fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(chooser.get_data(as_text=True))}
    callback = client.post("/dev-idp/authorize", data={**fields, "account": HN_LEVEL2})
    verified = rp.complete(db, query(callback.location), BROWSER)
    assert verified.claims["so_dinh_danh"] == "001085012345" and verified.eid_level == 2


def test_discovery_and_jwks_are_cacheable_and_token_errors_are_json(client, db):
    discovery = client.get("/dev-idp/.well-known/openid-configuration")
    assert discovery.headers["Cache-Control"] == "public, max-age=3600"
    assert discovery.get_json()["issuer"] == "http://localhost/dev-idp"
    jwks = client.get("/dev-idp/jwks")
    assert jwks.headers["Cache-Control"] == "public, max-age=300"
    assert all("d" not in key for key in jwks.get_json()["keys"])
    refused = client.post("/dev-idp/token", data={"grant_type": "authorization_code", "code": "x"})
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    assert refused.headers["Cache-Control"] == "no-store"
    assert client.get("/dev-idp/userinfo", headers={"Authorization": "Bearer nope"}).status_code == 401
