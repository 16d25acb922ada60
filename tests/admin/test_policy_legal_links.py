"""A citation's link typed in the draft editor is kept, checked, and linked on the public fee page."""

from __future__ import annotations

from identity.roles import POLICY_APPROVER, POLICY_EDITOR
from subsidies.rule_store import RuleVersion
from tests.admin.policy_support import draft_form

#: A placeholder address (example.org is reserved for examples): no real legal text is claimed here.
LINK = "https://example.org/van-ban/99-2026-NQ-HDND"


def _publish(editor, approver, row_id: int, today) -> None:
    period = {"csrf_token": editor.token, "start": today.isoformat(), "end": today.isoformat()}
    assert editor.post(f"/admin/policy/versions/{row_id}/simulate", data=period).status_code == 303
    assert editor.post(f"/admin/policy/versions/{row_id}/submit", data={"csrf_token": editor.token}).status_code == 303
    for step in ("approve", "publish"):
        answer = approver.post(f"/admin/policy/versions/{row_id}/{step}", data={"csrf_token": approver.token})
        assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]


def test_a_link_entered_in_the_editor_is_linked_on_the_fee_page(app, as_role, seeded, today):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    created = editor.post("/admin/policy/drafts/new",
                          data=draft_form(editor.token, today, **{"legal_basis-0-url": LINK}))
    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    row_id = int(created.location.rsplit("/", 1)[1])
    assert seeded.get(RuleVersion, row_id).definition["legal_basis"][0]["url"] == LINK
    assert f'value="{LINK}"' in editor.get(f"/admin/policy/versions/{row_id}/edit").get_data(as_text=True)
    assert f'href="{LINK}"' in editor.get(f"/admin/policy/versions/{row_id}").get_data(as_text=True)
    _publish(editor, approver, row_id, today)
    fees = app.test_client().get("/fees").get_data(as_text=True)
    assert f'<a href="{LINK}" rel="noopener">99/2026/NQ-HĐND (example)</a>' in fees


def test_a_link_that_is_not_http_is_refused_with_its_place(as_role, seeded, today):
    editor = as_role(POLICY_EDITOR)
    refused = editor.post("/admin/policy/drafts/new",
                          data=draft_form(editor.token, today, **{"legal_basis-0-url": "javascript:alert(1)"}))
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "rule_invalid" in text and "legal_basis[0].url" in text
