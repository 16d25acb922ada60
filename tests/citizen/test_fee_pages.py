"""The public fee page and the fee calculator: same evaluator, legal texts shown, accessible forms."""

from __future__ import annotations

import pytest

from core.geography import seed_provinces
from subsidies.seed import seed_catalogue, seed_rules


@pytest.fixture()
def seeded_client(client, db):
    seed_provinces(db)
    seed_catalogue(db)
    seed_rules(db)
    return client


def _english(client):
    client.get("/language/en")
    return client


def test_the_fee_page_lists_services_prices_reductions_and_legal_bases(seeded_client):
    page = _english(seeded_client).get("/fees").get_data(as_text=True)
    assert "Judicial-record certificate" in page
    assert "200,000 ₫" in page
    assert "Reduced fee for students" in page
    assert "244/2016/TT-BTC" in page and "Điều 5 khoản 1" in page
    assert "to be verified" in page, "unconfirmed citations are marked"


def test_the_fee_page_is_vietnamese_by_default(seeded_client):
    page = seeded_client.get("/fees").get_data(as_text=True)
    assert "Phí cấp Phiếu lý lịch tư pháp" in page and "200.000 ₫" in page


def test_the_calculator_prices_with_the_explanation(seeded_client):
    page = _english(seeded_client).get("/fees/calculator", query_string={
        "service_code": "LLTP", "quantity": "1", "channel": "VNEID", "decision_date": "2024-07-01",
        "birthdate": "1994-03-01", "residence_province_code": "01", "eid_level": "2"}).get_data(as_text=True)
    assert "You would pay 0 ₫" in page
    assert "11/2024/NQ-HĐND" in page
    assert "Not applied: condition failed: age &lt; 16 (actual: 30)." in page


def test_the_calculator_shows_field_errors_instead_of_failing(seeded_client):
    response = _english(seeded_client).get("/fees/calculator", query_string={
        "service_code": "LLTP", "quantity": "0", "channel": "VNEID", "decision_date": "2024-07-01"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page and "Please check the form" in page


def test_the_calculator_form_has_a_label_for_every_control(seeded_client):
    page = seeded_client.get("/fees/calculator").get_data(as_text=True)
    for control in ("service_code", "quantity", "channel", "decision_date", "birthdate", "residence_province_code",
                    "eid_level", "vehicle_class", "time_band"):
        assert f'<label for="{control}"' in page
    assert "<script" not in page and "style=" not in page
