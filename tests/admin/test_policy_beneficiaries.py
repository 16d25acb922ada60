"""The beneficiary registry pages through the test client: roles, CSV import (good, bad, again), masking."""

from __future__ import annotations

import io
import logging

from sqlalchemy import func, select

from identity.roles import FINANCE_OFFICER, POLICY_APPROVER, POLICY_EDITOR
from subsidies.beneficiaries import BeneficiaryRecord
from subsidies.registry_queries import mask_personal_id

FIRST, SECOND = "001122334445", "079203004567"
GOOD = (f"personal_id,category,valid_from,valid_to\n{FIRST},STUDENT,2024-01-01,2024-12-31\n"
        f"{SECOND},POOR_HOUSEHOLD,2024-01-01,\n")
SOURCE = "Sở LĐTBXH Hà Nội, danh sách hộ nghèo 2024 (ví dụ)"


def _records(db) -> int:
    return db.scalar(select(func.count()).select_from(BeneficiaryRecord))


def _upload(client, text: str, source: str = SOURCE, name: str = "list.csv"):
    return client.post("/admin/policy/beneficiaries/import",
                       data={"csrf_token": client.token, "source": source,
                             "file": (io.BytesIO(text.encode("utf-8")), name)})


def test_ids_are_masked_to_four_leading_and_two_trailing_digits():
    assert mask_personal_id(FIRST) == "0011******45"
    assert mask_personal_id("123") == "***"


def test_editors_import_both_read_and_others_are_refused(as_role, seeded):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    for client in (editor, approver):
        assert client.get("/admin/policy/beneficiaries").status_code == 200
        assert client.get("/admin/policy/beneficiaries/batches").status_code == 200
    assert approver.get("/admin/policy/beneficiaries/import").status_code == 403
    assert _upload(approver, GOOD).status_code == 403
    listing = approver.get("/admin/policy/beneficiaries").get_data(as_text=True)
    assert "/admin/policy/beneficiaries/import" not in listing, "no import link for approvers"
    assert as_role(FINANCE_OFFICER).get("/admin/policy/beneficiaries").status_code == 403
    assert as_role(FINANCE_OFFICER).get("/admin/policy/beneficiaries/batches").status_code == 403
    assert _records(seeded) == 0


def test_a_good_file_is_imported_and_listed_masked_with_its_batch(as_role, seeded):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    done = _upload(editor, GOOD)
    assert done.status_code == 303 and "added=2" in done.location and "skipped=0" in done.location
    assert _records(seeded) == 2
    history = editor.get(done.location).get_data(as_text=True)
    assert "2 bản ghi đã được thêm" in history and SOURCE in history and "Bùi Thị Lan" in history
    page = approver.get("/admin/policy/beneficiaries").get_data(as_text=True)
    assert "0011******45" in page and "0792******67" in page
    assert FIRST not in page and SECOND not in page
    record = seeded.scalars(select(BeneficiaryRecord).where(BeneficiaryRecord.personal_id == FIRST)).one()
    assert record.source == SOURCE and record.imported_by.startswith("staff:")
    by_category = approver.get("/admin/policy/beneficiaries?category=STUDENT").get_data(as_text=True)
    assert "0011******45" in by_category and "0792******67" not in by_category
    on_day = approver.get("/admin/policy/beneficiaries?valid_on=2025-03-01").get_data(as_text=True)
    assert "0792******67" in on_day and "0011******45" not in on_day, "the student record ended in 2024"
    by_batch = approver.get(f"/admin/policy/beneficiaries?batch={record.import_batch}").get_data(as_text=True)
    assert "0011******45" in by_batch and "0792******67" in by_batch
    assert approver.get("/admin/policy/beneficiaries?valid_on=yesterday").status_code == 400


def test_one_bad_line_refuses_the_whole_file_and_the_page_names_it(as_role, seeded):
    editor = as_role(POLICY_EDITOR)
    bad = GOOD + "001122334446,ALIEN,2024-01-01,\n"
    refused = _upload(editor, bad)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Dòng 4" in text and "unknown category" in text and "registry_import_invalid" in text
    assert "001122334446" not in text
    short_id = _upload(editor, "personal_id,category,valid_from,valid_to\n12345,STUDENT,2024-01-01,\n")
    assert short_id.status_code == 422 and "Dòng 2" in short_id.get_data(as_text=True)
    assert _records(seeded) == 0


def test_a_file_without_source_header_or_content_is_refused(as_role, seeded):
    editor = as_role(POLICY_EDITOR)
    assert _upload(editor, GOOD, source="").status_code == 422
    wrong_header = _upload(editor, "id,category\n001122334445,STUDENT\n")
    assert wrong_header.status_code == 422 and "personal_id,category,valid_from,valid_to" in \
        wrong_header.get_data(as_text=True)
    empty = editor.post("/admin/policy/beneficiaries/import", data={"csrf_token": editor.token, "source": SOURCE})
    assert empty.status_code == 422
    latin1 = editor.post("/admin/policy/beneficiaries/import", data={
        "csrf_token": editor.token, "source": SOURCE, "file": (io.BytesIO("Hà Nam".encode("latin-1")), "x.csv")})
    assert latin1.status_code == 422
    assert _records(seeded) == 0


def test_importing_the_same_file_again_adds_nothing_and_says_so(as_role, seeded):
    editor = as_role(POLICY_EDITOR)
    assert _upload(editor, GOOD).status_code == 303
    again = _upload(editor, "\ufeff" + GOOD)  # saved again by a spreadsheet: a byte-order mark in front
    assert again.status_code == 303 and "added=0" in again.location and "skipped=2" in again.location
    assert _records(seeded) == 2
    page = editor.get(again.location).get_data(as_text=True)
    assert "Không có bản ghi nào được thêm" in page
    assert page.count("<code>") == 1, "the history lists the one import that added records"


def test_no_full_personal_id_reaches_the_logs(as_role, seeded, caplog):
    editor = as_role(POLICY_EDITOR)
    with caplog.at_level(logging.DEBUG):
        _upload(editor, GOOD)
        _upload(editor, GOOD + f"{FIRST},NOPE,2024-01-01,\n")
        editor.get("/admin/policy/beneficiaries")
        editor.get("/admin/policy/beneficiaries/batches")
    logged = caplog.text + " ".join(str(vars(record)) for record in caplog.records)
    assert caplog.records, "requests were logged"
    assert FIRST not in logged and SECOND not in logged


def test_the_registry_is_listed_a_page_at_a_time_keeping_the_filters(as_role, seeded):
    editor = as_role(POLICY_EDITOR)
    lines = "".join(f"0011223344{i:02d},STUDENT,2024-01-01,\n" for i in range(60))
    assert _upload(editor, "personal_id,category,valid_from,valid_to\n" + lines).status_code == 303
    first = editor.get("/admin/policy/beneficiaries?category=STUDENT").get_data(as_text=True)
    assert "Trang 1 / 2" in first and first.count("0011******") == 50
    assert "page=2" in first and "category=STUDENT" in first.split('rel="next"')[0].rsplit("<a", 1)[1]
    second = editor.get("/admin/policy/beneficiaries?category=STUDENT&page=2").get_data(as_text=True)
    assert "Trang 2 / 2" in second and second.count("0011******") == 10
