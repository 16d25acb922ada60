"""The closed vocabulary of rules: declared fields, typed operators, effects, layers and hit policies.

Policy staff build rules only from these words. Anything else (an unknown field, an operator that does
not fit the field's type, an effect that is not listed) is a validation error, never a silent false.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("VNEID", "PORTAL", "COUNTER")
CATEGORIES = ("STUDENT", "MERITORIOUS", "MARTYR_RELATIVE", "DISABILITY", "POOR_HOUSEHOLD", "DISADVANTAGED_COMMUNE")
VEHICLE_CLASSES = ("BICYCLE", "MOTORBIKE", "CAR")
TIME_BANDS = ("DAY", "NIGHT", "DAY_NIGHT")
EID_LEVELS = (1, 2)

#: Layers in evaluation order: base fee, then national exemptions/reductions, then local support.
LAYERS = ("base", "national", "local")
#: ``first``: once the rule applies, lower-priority rules of its layer are skipped; ``collect``: they go on.
HIT_POLICIES = ("first", "collect")
#: phí (partly retained by the agency), lệ phí (remitted in full), giá dịch vụ (a price set by the city).
FEE_KINDS = ("fee", "charge", "price")
UNITS = ("request", "copy", "turn", "hour", "month")

# Field types decide which operators make sense and how operand values are checked.
ENUM, INT, CODE, SET = "enum", "int", "code", "set"


@dataclass(frozen=True)
class Field:
    """A fact a condition may test: its type, allowed values or range, and what it means."""

    name: str
    type: str
    doc: str
    values: tuple = ()
    minimum: int | None = None
    maximum: int | None = None
    code_length: int | None = None


FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("channel", ENUM, "how the request was made", values=CHANNELS),
    Field("age", INT, "whole years of age on the decision date", minimum=0, maximum=150),
    Field("residence.province_code", CODE, "permanent-residence province code", code_length=2),
    Field("residence.commune_code", CODE, "permanent-residence commune code", code_length=5),
    Field("eid_level", INT, "VNeID e-ID level", minimum=1, maximum=2),
    Field("categories", SET, "beneficiary categories", values=CATEGORIES),
    Field("quantity", INT, "number of copies, turns or hours", minimum=1, maximum=10_000),
    Field("vehicle_class", ENUM, "vehicle class (parking)", values=VEHICLE_CLASSES),
    Field("time_band", ENUM, "time band (parking: day 06-18, night 18-06)", values=TIME_BANDS),
    Field("zone", CODE, "parking zone code, as set by the city's price decision"),
)}

#: Operators allowed on each field type. ``between`` is inclusive at both ends.
OPERATORS: dict[str, tuple[str, ...]] = {
    ENUM: ("eq", "ne", "in", "not_in"),
    CODE: ("eq", "ne", "in", "not_in"),
    INT: ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "between"),
    SET: ("has_any", "has_all", "has_none"),
}
ALL_OPERATORS = tuple(sorted({op for ops in OPERATORS.values() for op in ops}))
LIST_OPERATORS = ("in", "not_in", "has_any", "has_all", "has_none")

#: Effects, with the layers they may appear in and their parameters (name -> required?).
EFFECTS: dict[str, tuple[tuple[str, ...], dict[str, bool]]] = {
    "set_price": (("base",), {"amount": True}),
    "per_unit_price": (("base",), {"amount": True, "from_unit": False, "to_unit": False, "step": False}),
    "exempt": (("national", "local"), {}),
    "percent_of_remaining": (("national", "local"), {"percent": True}),
    "amount_off": (("national", "local"), {"amount": True}),
    "per_unit_off": (("national", "local"), {"amount": True, "from_unit": False, "to_unit": False,
                                             "max_total": False}),
}

#: Operator words shown in explanations, per language.
OPERATOR_WORDS: dict[str, dict[str, str]] = {
    "eq": {"en": "is", "vi": "là"},
    "ne": {"en": "is not", "vi": "không là"},
    "in": {"en": "is one of", "vi": "thuộc"},
    "not_in": {"en": "is none of", "vi": "không thuộc"},
    "lt": {"en": "<", "vi": "<"},
    "le": {"en": "≤", "vi": "≤"},
    "gt": {"en": ">", "vi": ">"},
    "ge": {"en": "≥", "vi": "≥"},
    "between": {"en": "is between", "vi": "trong khoảng"},
    "has_any": {"en": "include any of", "vi": "có ít nhất một trong"},
    "has_all": {"en": "include all of", "vi": "có tất cả"},
    "has_none": {"en": "include none of", "vi": "không có"},
}

#: Field names as citizens read them, per language.
FIELD_WORDS: dict[str, dict[str, str]] = {
    "channel": {"en": "channel", "vi": "kênh nộp hồ sơ"},
    "age": {"en": "age", "vi": "tuổi"},
    "residence.province_code": {"en": "province of permanent residence", "vi": "tỉnh/thành nơi thường trú"},
    "residence.commune_code": {"en": "commune of permanent residence", "vi": "xã/phường nơi thường trú"},
    "eid_level": {"en": "e-ID level", "vi": "mức định danh điện tử"},
    "categories": {"en": "beneficiary categories", "vi": "đối tượng chính sách"},
    "quantity": {"en": "quantity", "vi": "số lượng"},
    "vehicle_class": {"en": "vehicle class", "vi": "loại xe"},
    "time_band": {"en": "time band", "vi": "khung giờ"},
    "zone": {"en": "parking zone", "vi": "khu vực trông giữ xe"},
}

#: Enumerated values as citizens read them, per language (codes stay in the data and the API).
VALUE_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "channel": {
        "VNEID": {"en": "the VNeID app", "vi": "ứng dụng VNeID"},
        "PORTAL": {"en": "the public service portal", "vi": "Cổng dịch vụ công"},
        "COUNTER": {"en": "the counter", "vi": "nộp trực tiếp"},
    },
    "categories": {
        "STUDENT": {"en": "student", "vi": "sinh viên"},
        "MERITORIOUS": {"en": "person with meritorious services", "vi": "người có công với cách mạng"},
        "MARTYR_RELATIVE": {"en": "martyr's relative", "vi": "thân nhân liệt sĩ"},
        "DISABILITY": {"en": "person with a disability", "vi": "người khuyết tật"},
        "POOR_HOUSEHOLD": {"en": "member of a poor household", "vi": "thành viên hộ nghèo"},
        "DISADVANTAGED_COMMUNE": {"en": "resident of an especially disadvantaged commune",
                                  "vi": "người cư trú tại xã đặc biệt khó khăn"},
    },
    "vehicle_class": {
        "BICYCLE": {"en": "bicycle", "vi": "xe đạp"},
        "MOTORBIKE": {"en": "motorbike", "vi": "xe máy"},
        "CAR": {"en": "car", "vi": "ô tô"},
    },
    "time_band": {
        "DAY": {"en": "day (06-18)", "vi": "ban ngày (06-18 giờ)"},
        "NIGHT": {"en": "night (18-06)", "vi": "ban đêm (18-06 giờ)"},
        "DAY_NIGHT": {"en": "day and night", "vi": "cả ngày và đêm"},
    },
}
