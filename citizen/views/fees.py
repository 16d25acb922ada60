"""Public fee pages: today's fees with who pays less and why, and a fee calculator on the same evaluator."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from marshmallow import ValidationError
from sqlalchemy import select

from citizen import TEMPLATES
from citizen.api.quote_schemas import QuoteRequestSchema
from citizen.api.quotes import quote_request_from
from core.clock import SYSTEM_CLOCK
from core.geography import CURRENT_CODE_LIST, Province
from subsidies.catalogue import list_services
from subsidies.errors import SubsidyError
from subsidies.fee_schedule import fee_schedule
from subsidies.quotes import preview
from subsidies.vocabulary import CATEGORIES, CHANNELS, TIME_BANDS, VEHICLE_CLASSES
from web.database import db_session

bp = Blueprint("fees", __name__, url_prefix="/fees", template_folder=TEMPLATES)

_INTEGER_FIELDS = ("quantity", "eid_level")


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


@bp.get("")
def index():
    """What each service costs today, who pays less and why, with links to the legal texts."""
    now = SYSTEM_CLOCK.now()
    schedules = fee_schedule(db_session(), SYSTEM_CLOCK.today_in_vietnam())
    return render_template("fees/index.html", schedules=schedules, lang=_lang(), now=now)


@bp.get("/calculator")
def calculator():
    """A form that prices a request with the same evaluator as the quote API; it reserves nothing."""
    session = db_session()
    form = request.args
    decision, errors = None, {}
    if form.get("service_code"):
        try:
            data = QuoteRequestSchema().load(_form_payload(form))
            decision = preview(session, quote_request_from(data))
        except ValidationError as exc:
            errors = exc.normalized_messages()
        except SubsidyError as exc:
            errors = {"_": [exc.message]}
    provinces = session.scalars(select(Province).where(Province.code_list == CURRENT_CODE_LIST)
                                .order_by(Province.code)).all()
    return render_template("fees/calculator.html", form=form, decision=decision, errors=errors,
                           services=list_services(session), provinces=provinces, channels=CHANNELS,
                           categories=CATEGORIES, vehicle_classes=VEHICLE_CLASSES, time_bands=TIME_BANDS,
                           lang=_lang(), now=SYSTEM_CLOCK.now())


def _form_payload(form) -> dict[str, Any]:
    """Turn the form's strings into the API's JSON types; empty fields are left out."""
    payload: dict[str, Any] = {}
    for name in QuoteRequestSchema().fields:
        if name == "categories":
            if form.getlist("categories"):
                payload["categories"] = form.getlist("categories")
            continue
        value = form.get(name, "").strip()
        if not value:
            continue
        payload[name] = int(value) if name in _INTEGER_FIELDS and value.isdigit() else value
    return payload
