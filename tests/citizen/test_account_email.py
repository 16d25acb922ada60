"""The account page offers e-mail for receipts and reminders: given with consent, changed, withdrawn; never
offered in production without a relay."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import select

from identity.models import Citizen, EmailConsent
from tests.web.oidc_support import HN_LEVEL2, form_token, login


def _consents(db) -> list[EmailConsent]:
    db.expire_all()
    return list(db.scalars(select(EmailConsent).order_by(EmailConsent.id)))


def test_giving_changing_and_withdrawing_the_address(client, db, caplog):
    login(client, HN_LEVEL2)
    page = client.get("/account/").get_data(as_text=True)
    assert "Biên lai và lời nhắc qua thư điện tử" in page and 'name="consent"' in page
    token = form_token(client, "/account/")
    with caplog.at_level(logging.INFO):
        given = client.post("/account/email", data={"csrf_token": token, "action": "save", "consent": "yes",
                                                    "email": " An.Nguyen@Example.VN "})
    assert given.status_code == 303 and given.location.endswith("/account/#email")
    [consent] = _consents(db)
    assert consent.address == "An.Nguyen@example.vn" and consent.language == "vi" and consent.withdrawn_at is None
    assert "An.Nguyen@example.vn" in client.get("/account/").get_data(as_text=True)
    assert not any("An.Nguyen@" in record.getMessage() or "An.Nguyen@" in str(record.__dict__)
                   for record in caplog.records)  # audited masked: A***@e***.vn
    client.post("/account/email", data={"csrf_token": token, "action": "save", "consent": "yes",
                                        "email": "an@example.vn"})
    old, new = _consents(db)
    assert old.withdrawn_at is not None and new.address == "an@example.vn" and new.withdrawn_at is None
    withdrawn = client.post("/account/email", data={"csrf_token": token, "action": "withdraw"})
    assert withdrawn.status_code == 303
    assert all(c.withdrawn_at is not None for c in _consents(db))
    export = client.get("/account/data.json").get_json()
    assert [e["address"] for e in export["email_consents"]] == ["An.Nguyen@example.vn", "an@example.vn"]


def test_no_consent_or_a_bad_address_is_refused_with_the_form_again(client, db):
    login(client, HN_LEVEL2)
    token = form_token(client, "/account/")
    unticked = client.post("/account/email", data={"csrf_token": token, "action": "save", "email": "an@example.vn"})
    assert unticked.status_code == 422
    assert "Hãy đánh dấu vào ô để đồng ý nhận thư" in unticked.get_data(as_text=True)
    bad = client.post("/account/email", data={"csrf_token": token, "action": "save", "consent": "yes",
                                              "email": "not an address"})
    assert bad.status_code == 422 and "ten@example.vn" in bad.get_data(as_text=True)
    assert _consents(db) == []


def test_the_english_page_records_english(client, db):
    login(client, HN_LEVEL2)
    client.get("/language/en")
    token = form_token(client, "/account/")
    client.post("/account/email", data={"csrf_token": token, "action": "save", "consent": "yes",
                                        "email": "an@example.vn"})
    assert [c.language for c in _consents(db)] == ["en"]


def test_without_a_relay_in_production_e_mail_is_not_offered(client, db):
    login(client, HN_LEVEL2)
    token = form_token(client, "/account/")
    extensions = client.application.extensions
    settings = extensions["gateway.settings"]
    extensions["gateway.settings"] = replace(settings, env="production", smtp_host="")  # production, no relay
    try:
        assert 'name="consent"' not in client.get("/account/").get_data(as_text=True)
        assert client.post("/account/email", data={"csrf_token": token, "action": "save", "consent": "yes",
                                                   "email": "an@example.vn"}).status_code == 404
    finally:
        extensions["gateway.settings"] = settings
    assert db.scalar(select(Citizen.id)) is not None and _consents(db) == []
