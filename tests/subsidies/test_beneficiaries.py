"""The beneficiary registry: CSV import with source and validity, and its use when pricing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from subsidies import quotes
from subsidies.beneficiaries import BeneficiaryRecord, categories_on, import_csv
from subsidies.errors import RegistryImportInvalid

CSV = """personal_id,category,valid_from,valid_to
001094000123,STUDENT,2023-09-01,2027-06-30
001094000123,POOR_HOUSEHOLD,2022-01-01,2022-12-31
079190000456,DISABILITY,2020-01-01,
"""


def test_an_import_records_source_batch_and_validity(seeded, clock):
    result = import_csv(seeded, CSV, source="Sở GD&ĐT Hà Nội, danh sách 2024", imported_by="staff-7", clock=clock)
    assert (result.added, result.skipped_duplicates) == (3, 0)
    rows = seeded.scalars(select(BeneficiaryRecord).order_by(BeneficiaryRecord.id)).all()
    assert {row.source for row in rows} == {"Sở GD&ĐT Hà Nội, danh sách 2024"}
    assert {row.import_batch for row in rows} == {result.batch}
    assert rows[2].valid_to is None


def test_importing_the_same_file_twice_adds_nothing(seeded, clock):
    import_csv(seeded, CSV, source="list", imported_by="staff-7", clock=clock)
    again = import_csv(seeded, CSV, source="list", imported_by="staff-7", clock=clock)
    assert (again.added, again.skipped_duplicates) == (0, 3)


def test_only_categories_valid_on_the_day_count(seeded, clock):
    import_csv(seeded, CSV, source="list", imported_by="staff-7", clock=clock)
    assert categories_on(seeded, "001094000123", date(2024, 7, 1)) == {"STUDENT"}
    assert categories_on(seeded, "001094000123", date(2022, 6, 1)) == {"POOR_HOUSEHOLD"}
    assert categories_on(seeded, "079190000456", date(2030, 1, 1)) == {"DISABILITY"}


@pytest.mark.parametrize(("text", "message"), [
    ("personal_id,category,valid_from\n", "header"),
    ("personal_id,category,valid_from,valid_to\n12345,STUDENT,2024-01-01,\n", "line 5: personal_id"),
    ("personal_id,category,valid_from,valid_to\n001094000123,PENSIONER,2024-01-01,\n", "line 5: unknown category"),
    ("personal_id,category,valid_from,valid_to\n001094000123,STUDENT,01/01/2024,\n", "line 5: dates"),
    ("personal_id,category,valid_from,valid_to\n001094000123,STUDENT,2024-01-01,2023-01-01\n", "before"),
])
def test_a_bad_file_is_refused_whole_and_names_the_line(seeded, clock, text, message):
    with pytest.raises(RegistryImportInvalid, match=message):
        import_csv(seeded, CSV + text.split("\n", 1)[1] if "header" not in message else text,
                   source="list", imported_by="staff-7", clock=clock)
    assert seeded.scalars(select(BeneficiaryRecord)).all() == []


def test_a_pinned_quote_uses_the_registry_categories(seeded, hanoi_request, clock):
    import_csv(seeded, CSV, source="list", imported_by="staff-7", clock=clock)
    quote = quotes.create_quote(seeded, hanoi_request(), personal_id="001094000123", clock=clock)
    assert quote.amount_due == 100_000, "a registered student gets the national reduction, not city support"
    assert quote.request["categories"] == ["STUDENT"]
