"""Vietnamese first, English available: locale choice, the language switch, and display filters."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, redirect, request
from flask_babel import Babel, format_datetime, get_locale

from core.clock import to_vietnam
from core.money import Money, format_money
from web import ROOT
from web.security import safe_next

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_COOKIE = "lang"
DISPLAY_TIMEZONE = "Asia/Ho_Chi_Minh"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """Use the language the person chose; otherwise Vietnamese."""
    chosen = request.cookies.get(LOCALE_COOKIE)
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


@bp.get("/language/<code>")
def switch_language(code: str):
    """Remember the chosen language and go back to the page the person was on."""
    response = redirect(safe_next(request.args.get("next")))
    if code in LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


#: Vietnamese writes day/month/year and a 24-hour clock; the English pages keep the same order.
DATETIME_PATTERN = "HH:mm, dd/MM/yyyy"


def vn_datetime(value: datetime | str, pattern: str = DATETIME_PATTERN) -> str:
    """Show an instant in Asia/Ho_Chi_Minh as ``13:07, 29/11/2026`` (stored explanations keep ISO 8601 text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(to_vietnam(value), pattern)


def money(value: Money) -> str:
    """Show money for the current language: ``200.000 ₫``."""
    return format_money(value, str(get_locale() or DEFAULT_LOCALE))


def init_app(app: Flask) -> None:
    """Install Babel with our locale choice and register the language switch and filters."""
    app.config.update(BABEL_DEFAULT_LOCALE=DEFAULT_LOCALE, BABEL_DEFAULT_TIMEZONE=DISPLAY_TIMEZONE,
                      BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"))
    Babel(app, locale_selector=select_locale, timezone_selector=lambda: DISPLAY_TIMEZONE)
    app.register_blueprint(bp)
    app.add_template_filter(vn_datetime, "vn_datetime")
    app.add_template_filter(money, "money")
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale() or DEFAULT_LOCALE), LOCALES=LOCALES)
