"""Issue 12 through the back office: a new version of an open-ended rule says what it ends, is approved and ends it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select

from admin.policy.messages import PROBLEM_MESSAGES, problem_text
from identity.roles import POLICY_APPROVER, POLICY_EDITOR
from subsidies.checks import Problem, check_rule_set
from subsidies.definitions import Condition, Effect
from subsidies.rule_store import RuleVersion
from subsidies.schema import parse_rule
from subsidies.succession import succession_problems
from tests.admin.policy_support import draft_form


def _reduction(db) -> RuleVersion:
    """The national reduction for students, published and open-ended since 2017."""
    return db.scalars(select(RuleVersion).where(RuleVersion.rule_id == "LLTP-REDUCED")).one()


def reduction_form(token: str, start, replaces: RuleVersion | None, **changes: str) -> dict[str, object]:
    """The editor's form for a new version of LLTP-REDUCED (120,000 đ off from ``start``), as posted."""
    form = draft_form(token, start, **{
        "rule_id": "LLTP-REDUCED", "layer": "national", "priority": "50", "unless_layer_applied": "",
        "title_vi": "Giảm phí cho sinh viên (mức mới)", "title_en": "Reduced fee for students (new amount)",
        "effective_to": "", "conditions-0-field": "categories", "conditions-0-op": "has_any",
        "conditions-0-choices": ["STUDENT", "MERITORIOUS", "MARTYR_RELATIVE"],
        "conditions-1-field": "", "conditions-2-field": "", "effects-0-amount": "120000",
        "tests-0-name": "a student pays 80,000", "tests-0-channel": "COUNTER", "tests-0-birthdate": "2003-01-01",
        "tests-0-residence_province_code": "", "tests-0-eid_level": "", "tests-0-categories": "STUDENT",
        "tests-0-amount_due": "80000"})
    if replaces is not None:
        form["replaces"] = str(replaces.id)
    form.update(changes)
    return form


def _create(editor, form) -> int:
    created = editor.post("/admin/policy/drafts/new", data=form)
    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    return int(created.location.rsplit("/", 1)[1])


def _ready(editor, row_id: int, today) -> None:
    period = {"csrf_token": editor.token, "start": today.isoformat(), "end": today.isoformat()}
    assert editor.post(f"/admin/policy/versions/{row_id}/simulate", data=period).status_code == 303
    assert editor.post(f"/admin/policy/versions/{row_id}/submit", data={"csrf_token": editor.token}).status_code == 303


def _text(answer) -> str:
    return re.sub(r"\s+", " ", answer.get_data(as_text=True))


def test_a_new_version_of_an_open_ended_rule_says_what_it_ends_and_ends_it_when_published(as_role, seeded, today):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    old = _reduction(seeded)
    editor_page = _text(editor.get(f"/admin/policy/drafts/new?from={old.id}"))
    assert f'name="replaces" type="hidden" value="{old.id}"' in editor_page
    assert "Phiên bản mới của LLTP-REDUCED@1" in editor_page
    assert "LLTP-REDUCED@1 có hiệu lực từ ngày 2017-01-01, không thời hạn." in editor_page
    assert "Phiên bản này phải bắt đầu sau ngày 2017-01-01" in editor_page, "the copied start is too early"
    start = today + timedelta(days=30)
    row_id = _create(editor, reduction_form(editor.token, start, old))
    last_day = (start - timedelta(days=1)).isoformat()
    announced = (f"Khi công bố phiên bản này, LLTP-REDUCED@1 hết hiệu lực: ngày cuối cùng có hiệu lực là {last_day}, "
                 f"và phiên bản này áp dụng từ ngày {start.isoformat()}.")
    assert announced in _text(editor.get(f"/admin/policy/versions/{row_id}/edit"))
    _ready(editor, row_id, today)
    review = _text(approver.get(f"/admin/policy/versions/{row_id}"))
    assert announced in review and "Kiểm tra, kiểm thử kèm theo và mô phỏng đều đạt." in review
    for step in ("approve", "publish"):
        answer = approver.post(f"/admin/policy/versions/{row_id}/{step}", data={"csrf_token": approver.token})
        assert answer.status_code == 303, _text(answer)[:3000]
    assert seeded.get(RuleVersion, row_id).status == "published"
    index = _text(editor.get(f"/admin/policy/?day={start.isoformat()}"))
    assert "LLTP-REDUCED@2" in index and "LLTP-REDUCED@1" not in index
    before = _text(editor.get(f"/admin/policy/?day={last_day}"))
    assert f"2017-01-01 – {last_day}" in before, "the old version shows its new last day"
    history = _text(editor.get("/admin/policy/rules/LLTP-REDUCED"))
    assert f"last day in force {last_day}: replaced by LLTP-REDUCED@2" in history
    assert "đã hết hiệu lực do phiên bản kế tiếp" in history


def test_an_overlap_refusal_says_in_vietnamese_and_english_what_to_do(as_role, seeded, today):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    start = today + timedelta(days=30)
    row_id = _create(editor, reduction_form(editor.token, start, None))
    _ready(editor, row_id, today)
    refused = approver.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": approver.token})
    assert refused.status_code == 409
    text = _text(refused)
    assert "rule_not_ready" in text
    assert "LLTP-REDUCED@2 chưa thể được phê duyệt hoặc công bố." in text
    assert (f"LLTP-REDUCED@1 và LLTP-REDUCED@2 cùng có hiệu lực vào ngày {start.isoformat()}. Hãy sửa ngày hiệu lực"
            in text)
    assert "Tạo phiên bản mới từ phiên bản này" in text
    approver.get("/language/en?next=/")
    english = _text(approver.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": approver.token}))
    assert "LLTP-REDUCED@2 cannot be approved or published yet." in english
    assert "to replace a published version, start the new draft from that version" in english
    as_json = approver.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": approver.token},
                            headers={"Accept": "application/json"}).get_json()
    assert as_json["code"] == "rule_not_ready"
    assert [p["code"] for p in as_json["details"]["problems"]] == ["window_overlap"]
    assert seeded.get(RuleVersion, row_id).status == "in_review"


def test_a_successor_that_starts_too_early_is_shown_what_to_change(as_role, seeded, today):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    old = _reduction(seeded)
    row_id = _create(editor, reduction_form(editor.token, today, old, effective_from="2017-01-01",
                                            **{"tests-0-name": ""}))
    _ready(editor, row_id, today)
    page = _text(approver.get(f"/admin/policy/versions/{row_id}"))
    assert ("LLTP-REDUCED@2 thay thế LLTP-REDUCED@1 nhưng bắt đầu từ ngày 2017-01-01, không muộn hơn ngày "
            "LLTP-REDUCED@1 bắt đầu (2017-01-01).") in page
    refused = approver.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": approver.token},
                            headers={"Accept": "application/json"})
    assert refused.status_code == 409
    assert "successor_starts_too_early" in [p["code"] for p in refused.get_json()["details"]["problems"]]


def test_every_problem_the_checks_raise_has_a_sentence_in_each_language(app):
    rule = parse_rule({"rule_id": "RULE-A", "version": 1, "service": "LLTP", "layer": "national",
                       "title": {"vi": "A", "en": "A"}, "effective_from": "2024-01-01", "budget_fund": "NOPE",
                       "legal_basis": [{"doc": "1", "issuer": "x", "date": "2024-01-01", "article": "1"}],
                       "conditions": [{"field": "residence.province_code", "op": "in", "value": ["01", "31"],
                                       "code_list": "QD19/2025"}], "effects": [{"type": "exempt"}]})
    other_list = replace(rule, rule_id="RULE-B", budget_fund=None, effects=(Effect("amount_off", amount=1),),
                         conditions=(Condition("residence.province_code", "eq", "01", "QD124/2004"),))
    base = replace(rule, rule_id="BASE", layer="base", conditions=(), budget_fund=None,
                   effects=(Effect("set_price", amount=1),), effective_to=date(2024, 6, 30))
    later_base = replace(base, version=2, effective_from=date(2024, 7, 2), effective_to=None)
    successor = replace(rule, version=2, effective_from=date(2023, 1, 1))
    third = replace(rule, version=3, effective_from=date(2025, 1, 1))
    overlapping = replace(rule, rule_id="RULE-C", conditions=(), budget_fund=None,
                          effects=(Effect("amount_off", amount=1),))
    rules = [rule, other_list, overlapping, base, later_base, successor, third]
    replaces = {successor.key: rule.key, third.key: rule.key}
    problems = check_rule_set(rules, known_codes={"QD19/2025": {"01"}}, known_funds=set())
    problems += succession_problems(rules, replaces)
    ids = {p.message_id or p.code for p in problems}
    assert ids == set(PROBLEM_MESSAGES) - {"no_simulation", "test_failed", "retire_restores_overlap"}
    problems += [Problem("no_simulation", "", (), {"rule": "R@1"}),
                 Problem("test_failed", "", (), {"test": "t", "problems": "amount_due is 1, expected 2"}),
                 Problem("retire_restores_overlap", "", (), {"rule": "R@2", "predecessor": "R@1", "other": "R@3"})]
    for language in ("vi", "en"):
        with app.test_request_context("/", headers={"Cookie": f"lang={language}"}):
            for problem in problems:
                text = problem_text(problem.to_dict())
                assert text and "%(" not in text and text != problem.message, (language, problem.code)
