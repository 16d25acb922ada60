"""Marshmallow schemas of the quote API: strict input (unknown fields are refused), documented output."""

from __future__ import annotations

from datetime import date, datetime

import marshmallow as ma
from marshmallow import fields, validate

from subsidies.vocabulary import CATEGORIES, CHANNELS, TIME_BANDS, VEHICLE_CLASSES


class DecisionDate(fields.Field):
    """An ISO 8601 date (a day in Vietnam) or a date-time with its offset; a bare local time is refused."""

    default_error_messages = {
        "invalid": "Not a valid ISO 8601 date or date-time, e.g. 2024-07-01 or 2024-12-31T23:59:00+07:00.",
        "naive": "A date-time needs its UTC offset, e.g. 2024-12-31T23:59:00+07:00.",
        "range": "The decision date must lie between 2000 and 2100.",
    }

    def _deserialize(self, value, attr, data, **kwargs) -> date | datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            parsed: date | datetime = (datetime.fromisoformat(value) if "T" in value or " " in value
                                       else date.fromisoformat(value))
        except ValueError:
            raise self.make_error("invalid") from None
        if isinstance(parsed, datetime) and parsed.utcoffset() is None:
            raise self.make_error("naive")
        if not 2000 <= parsed.year <= 2100:
            raise self.make_error("range")
        return parsed

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()


def _code(digits: int) -> fields.String:
    return fields.String(validate=validate.Regexp(rf"^\d{{{digits}}}$", error=f"Must be a {digits}-digit code."),
                         metadata={"example": "01" if digits == 2 else "00001"})


class QuoteRequestSchema(ma.Schema):
    """What to price: a service, a quantity, a channel, when, and the citizen's facts."""

    class Meta:
        unknown = ma.RAISE

    service_code = fields.String(required=True, validate=validate.Length(min=1, max=32),
                                 metadata={"example": "LLTP"})
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10_000))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    decision_date = DecisionDate(load_default=None, metadata={
        "description": "ISO 8601 date or date-time with offset; judged as a day in Asia/Ho_Chi_Minh. Default: now.",
        "example": "2024-07-01"})
    birthdate = fields.Date(load_default=None)
    residence_province_code = _code(2)
    residence_commune_code = _code(5)
    eid_level = fields.Integer(load_default=None, strict=True, validate=validate.OneOf([1, 2]))
    categories = fields.List(fields.String(validate=validate.OneOf(CATEGORIES)), load_default=list,
                             validate=validate.Length(max=len(CATEGORIES)))
    vehicle_class = fields.String(load_default=None, validate=validate.OneOf(VEHICLE_CLASSES))
    time_band = fields.String(load_default=None, validate=validate.OneOf(TIME_BANDS))
    zone = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class TextsSchema(ma.Schema):
    """The same text in Vietnamese and English."""

    vi = fields.String()
    en = fields.String()


class LegalBasisSchema(ma.Schema):
    """A legal citation; ``verify`` marks one from secondary sources only."""

    doc = fields.String()
    issuer = fields.String()
    date = fields.String(allow_none=True)
    article = fields.String()
    url = fields.String(allow_none=True)
    verify = fields.Boolean()
    sha256 = fields.String()


class ExplanationEntrySchema(ma.Schema):
    """One rule considered: applied or not, why, the amount and the citation."""

    rule_id = fields.String()
    version = fields.Integer()
    title = fields.Nested(TextsSchema)
    applied = fields.Boolean()
    outcome = fields.String(metadata={"description": "applied, not_in_force, condition_failed, fact_missing, "
                                                     "code_list_mismatch, layer_already_decided, "
                                                     "prior_layer_applied or fund_exhausted"})
    amount = fields.Integer(metadata={"description": "VND; + a charge, - a reduction"})
    reason = fields.Nested(TextsSchema)
    failed_condition = fields.Dict(allow_none=True)
    legal_basis = fields.List(fields.Nested(LegalBasisSchema))


class ExplanationLayerSchema(ma.Schema):
    """A layer of the explanation tree: base fee, national exemptions and reductions, local support."""

    layer = fields.String()
    label = fields.Nested(TextsSchema)
    entries = fields.List(fields.Nested(ExplanationEntrySchema))


class QuoteSchema(ma.Schema):
    """A priced preview."""

    service_code = fields.String()
    quantity = fields.Integer()
    decision_date = fields.Date(metadata={"description": "The day in Asia/Ho_Chi_Minh the rules were judged on"})
    currency = fields.String()
    base_amount = fields.Integer()
    amount_due = fields.Integer()
    rule_set_hash = fields.String()
    summary = fields.Nested(TextsSchema)
    explanation = fields.List(fields.Nested(ExplanationLayerSchema))
