import re
from datetime import UTC, datetime


def test_home_page_is_vietnamese_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Nộp phí, lệ phí của thành phố không dùng tiền mặt" in page
    assert "Giờ Việt Nam:" in page


def test_home_page_switches_to_english_and_back(client):
    response = client.get("/language/en?next=/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Pay city fees without cash" in page
    client.get("/language/vi?next=/")
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        response = client.get("/language/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_an_unknown_language_keeps_vietnamese(client):
    client.get("/language/fr?next=/")
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_page_has_landmarks_skip_link_and_viewport(client):
    page = client.get("/").get_data(as_text=True)
    for needle in ('<header', '<main id="content"', '<footer', 'class="skip-link" href="#content"',
                   'name="viewport"', '<nav class="lang-switch" aria-label='):
        assert needle in page


def test_times_are_shown_in_vietnam(app):
    from web.i18n import vn_datetime

    with app.test_request_context("/"):
        assert vn_datetime(datetime(2026, 11, 29, 17, 30, tzinfo=UTC)) == "00:30, 30/11/2026"


def test_money_filter_follows_the_language(app):
    from core.money import vnd

    with app.test_request_context("/"):
        template = app.jinja_env.from_string("{{ amount|money }}")
        assert template.render(amount=vnd(200_000)) == "200.000 ₫"
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert re.fullmatch(r"200,000 ₫", template.render(amount=vnd(200_000)))
