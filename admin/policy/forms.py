"""The rule editor's forms: every rule part is a table of rows whose words come from the closed vocabulary.

CSRF is checked for every form by the gateway (``web.security``), so these are plain WTForms forms.
Blank rows are left in each table for new entries and skipped when the form is read.
"""

from __future__ import annotations

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FileField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from subsidies.vocabulary import (
    CATEGORIES,
    CHANNELS,
    EFFECTS,
    FIELDS,
    HIT_POLICIES,
    LAYERS,
    OPERATORS,
    TIME_BANDS,
    VEHICLE_CLASSES,
)

#: Blank rows offered in each table of the editor.
BLANK_ROWS = {"legal_basis": 1, "conditions": 3, "effects": 1, "tests": 1}
_OPERATORS = tuple(dict.fromkeys(op for ops in OPERATORS.values() for op in ops))


class _Translations:
    """WTForms' own messages ("Not a valid choice.") through our catalogue: WTForms ships no Vietnamese."""

    # The catalogue itself, not flask_babel's helpers: those would %-format WTForms' "%(max)d" too early.
    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


class PolicyForm(Form):
    """A form whose built-in messages follow the page's language."""

    class Meta:
        def get_translations(self, form):
            return _Translations()


def options(values, *, blank: bool = False, optgroup: str | None = None) -> list[SelectChoice]:
    """Select options whose labels are the vocabulary's own words (codes staff know from the rules)."""
    return ([SelectChoice("", "—")] if blank else []) + [SelectChoice(str(v), str(v), optgroup=optgroup)
                                                          for v in values]


class LegalBasisRow(PolicyForm):
    """One citation: document, issuer, date, article, link, and whether it still needs checking."""

    doc = StringField(_l("Document number"), validators=[Optional(), Length(max=200)])
    issuer = StringField(_l("Issued by"), validators=[Optional(), Length(max=200)])
    date = DateField(_l("Issued on"), validators=[Optional()])
    article = StringField(_l("Article"), validators=[Optional(), Length(max=200)])
    url = StringField(_l("Link"), validators=[Optional(), Length(max=500)])
    verify = BooleanField(_l("To be verified"))


class ConditionRow(PolicyForm):
    """``field operator value``: numbers and codes are typed, listed values are chosen."""

    field = SelectField(_l("Fact"), choices=options(FIELDS, blank=True), default="")
    op = SelectField(_l("Operator"), choices=options(_OPERATORS, blank=True), default="")
    choices = SelectMultipleField(_l("Listed values"), choices=[
        *options(CHANNELS, optgroup="channel"), *options(CATEGORIES, optgroup="categories"),
        *options(VEHICLE_CLASSES, optgroup="vehicle_class"), *options(TIME_BANDS, optgroup="time_band")])
    value = StringField(_l("Number or code"), validators=[Optional(), Length(max=200)])
    code_list = SelectField(_l("Code list"), choices=options((), blank=True), default="")


class EffectRow(PolicyForm):
    """One effect from the closed list, with the parameters it takes."""

    type = SelectField(_l("Effect"), choices=options(EFFECTS, blank=True), default="")
    amount = IntegerField(_l("Amount (đ)"), validators=[Optional()])
    percent = StringField(_l("Percent"), validators=[Optional(), Length(max=10)])
    from_unit = IntegerField(_l("From unit"), validators=[Optional()])
    to_unit = IntegerField(_l("To unit"), validators=[Optional()])
    step = IntegerField(_l("Step"), validators=[Optional()])
    max_total = IntegerField(_l("Cap (đ)"), validators=[Optional()])


class TestRow(PolicyForm):
    """An attached test case: a request and the amount it must cost."""

    name = StringField(_l("Case name"), validators=[Optional(), Length(max=200)])
    decision_date = DateField(_l("Request date"), validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=options(CHANNELS))
    quantity = IntegerField(_l("Quantity"), default=1, validators=[Optional()])
    birthdate = DateField(_l("Date of birth"), validators=[Optional()])
    residence_province_code = StringField(_l("Province code"), validators=[Optional(), Length(max=2)])
    eid_level = SelectField(_l("e-ID level"), choices=options((1, 2), blank=True), default="")
    categories = SelectMultipleField(_l("Categories"), choices=options(CATEGORIES))
    vehicle_class = SelectField(_l("Vehicle"), choices=options(VEHICLE_CLASSES, blank=True), default="")
    time_band = SelectField(_l("Time band"), choices=options(TIME_BANDS, blank=True), default="")
    amount_due = IntegerField(_l("Expected amount due (đ)"), validators=[Optional()])
    applied = StringField(_l("Rules expected to apply (RULE or RULE@version, comma-separated)"),
                          validators=[Optional(), Length(max=500)])


class RuleForm(PolicyForm):
    """A whole draft: identity and place in the evaluation, dates, citations, conditions, effects, tests."""

    rule_id = StringField(_l("Rule id"), validators=[InputRequired(), Length(max=64)])
    service = SelectField(_l("Service"), choices=[])
    layer = SelectField(_l("Layer"), choices=options(LAYERS), default="local")
    priority = IntegerField(_l("Priority"), default=0, validators=[InputRequired()])
    hit_policy = SelectField(_l("Hit policy"), choices=options(HIT_POLICIES))
    title_vi = StringField(_l("Title in Vietnamese"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=300)])
    effective_from = DateField(_l("In force from"), validators=[InputRequired()])
    effective_to = DateField(_l("In force until (inclusive)"), validators=[Optional()])
    unless_layer_applied = SelectField(_l("Skip when this earlier layer applied"),
                                       choices=options(LAYERS[:2], blank=True), default="")
    budget_fund = SelectField(_l("Subsidy fund"), choices=[])
    legal_basis = FieldList(FormField(LegalBasisRow), min_entries=1)
    conditions = FieldList(FormField(ConditionRow))
    effects = FieldList(FormField(EffectRow), min_entries=1)
    tests = FieldList(FormField(TestRow))
    #: The published version a new draft was started from (``?from=``); the service decides if it replaces it.
    replaces = IntegerField(widget=HiddenInput(), validators=[Optional()])


class DayForm(PolicyForm):
    """The day to show the rules in force on."""

    day = DateField(_l("Rules in force on"), validators=[Optional()])


class SimulationForm(PolicyForm):
    """The period of past quotes to price again."""

    start = DateField(_l("From"), validators=[InputRequired()])
    end = DateField(_l("To (inclusive)"), validators=[InputRequired()])


class NoteForm(PolicyForm):
    """Why a version is sent back or retired (kept in the audit trail)."""

    note = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])


class ImportForm(PolicyForm):
    """A YAML file of rules to store as drafts."""

    file = FileField(_l("YAML file"))


class RegistryFilterForm(PolicyForm):
    """Which registry records to list (every filter optional; read from the query string)."""

    category = SelectField(_l("Category"), choices=options(CATEGORIES, blank=True), default="")
    source = SelectField(_l("Source"), choices=options((), blank=True), default="")
    valid_on = DateField(_l("Valid on"), validators=[Optional()])
    batch = StringField(_l("Import batch"), validators=[Optional(), Length(max=36)])


class RegistryImportForm(PolicyForm):
    """A CSV file of beneficiaries and the source it comes from."""

    source = StringField(_l("Source (agency and document)"), validators=[DataRequired(), Length(max=200)])
    file = FileField(_l("CSV file"))
