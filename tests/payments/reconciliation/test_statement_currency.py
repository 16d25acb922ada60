"""Money is whole dong: a statement in another currency is refused whole and never reaches the ledger (issue 12).

Before, a PostFinance statement in CHF was imported and its CHF 4.50 credit booked as 450 dong. Now an
account that is not in VND is refused (``account_not_vnd``), and so is a VND statement with a line or a
balance in another currency (``currency_mismatch``), before anything is written. Lines stored by an
earlier version in another currency make bank and Treasury runs refuse, instead of booking them as dong.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.clock import FixedClock
from core.errors import ValidationFailed
from core.money import ISO4217_EXPONENTS
from payments.models.ledger import LedgerPosting, LedgerTransaction
from payments.reconciliation.imports import import_report
from payments.reconciliation.models import ReportFile, ReportLine, ReportStatement
from payments.reconciliation.parsed import ImportRejected
from payments.reconciliation.runs import ReconRun
from payments.reconciliation.service import outcome_counts, reconcile_bank
from payments.reconciliation.treasury import reconcile_treasury
from payments.remittance_rules import load_rules
from tests.payments.reconciliation.bank_flow import STRIPE_HEADER, bank, run

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"
CLOCK = FixedClock(datetime(2026, 12, 9, 3, 0, tzinfo=UTC))
POSTFINANCE = "camt053/postfinance-camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml"
FOREIGN = sorted(code for code in ISO4217_EXPONENTS if code != "VND")


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _nothing_written(db) -> bool:
    return all(_count(db, model) == 0 for model in (ReportFile, ReportStatement, ReportLine, LedgerTransaction,
                                                   LedgerPosting, ReconRun))


def _refusal(db, content: bytes, format: str) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        import_report(db, content, format, filename="statement", imported_by="officer:7", clock=CLOCK)
    return caught.value


def test_a_chf_statement_is_refused_and_its_chf_4_50_never_becomes_450_dong(db):
    refused = _refusal(db, (SAMPLES / POSTFINANCE).read_bytes(), "camt053")
    assert refused.code == "account_not_vnd"
    assert refused.details["code"] == "account_not_vnd" and refused.details["currency"] == "CHF"
    assert refused.details["account"] == "CH2909000000250094239"
    assert "CHF" in refused.reason and "VND" in refused.reason
    # Nothing was stored, so a bank run of that account finds nothing to book.
    reconcile_bank(db, account="CH2909000000250094239", period_start=date(2020, 11, 24), period_end=date(2020, 11, 25),
                   items=[], started_by="officer:1", clock=CLOCK)
    assert _count(db, LedgerPosting) == 0 and _count(db, ReportLine) == 0


@pytest.mark.parametrize("name", sorted(str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*")
                                        if p.suffix in (".xml", ".sta", ".txt")))
def test_every_real_sample_in_eur_chf_usd_ron_or_hkd_is_refused_whole(db, name):
    format = "camt053" if name.endswith(".xml") else "mt940"
    refused = _refusal(db, (SAMPLES / name).read_bytes(), format)
    assert refused.code == "account_not_vnd" and refused.details["currency"] in ("EUR", "CHF", "USD", "RON", "HKD")
    assert _nothing_written(db)


def test_a_line_in_another_currency_on_a_vnd_statement_is_refused_at_its_row(db):
    content = (FIXTURES / "same-day.camt053.xml").read_bytes()
    old = b'<Amt Ccy="VND">100000</Amt>'
    assert old in content
    refused = _refusal(db, content.replace(old, b'<Amt Ccy="USD">1000.00</Amt>'), "camt053")
    assert refused.code == "currency_mismatch" and refused.row == 17  # the line of that <Ntry>
    assert refused.details["currency"] == "USD" and refused.details["account_currency"] == "VND"
    assert _nothing_written(db)


def test_a_closing_balance_in_another_currency_is_refused_not_taken_for_dong(db):
    content = (FIXTURES / "same-day.camt053.xml").read_bytes()
    old = b'<Amt Ccy="VND">1302500</Amt>'
    assert old in content
    refused = _refusal(db, content.replace(old, b'<Amt Ccy="USD">13025.00</Amt>'), "camt053")
    assert refused.code == "currency_mismatch" and refused.details["balance"] == "closing"
    assert refused.details["currency"] == "USD" and "closing balance" in refused.reason
    assert _nothing_written(db)


def test_an_mt940_statement_in_euro_is_refused_like_a_camt053(db):
    content = (FIXTURES / "same-day.mt940.sta").read_bytes().replace(b"VND", b"EUR")
    refused = _refusal(db, content, "mt940")
    assert refused.code == "account_not_vnd" and refused.details["currency"] == "EUR"
    assert _nothing_written(db)


def _camt(currency: str, amounts: list[int], account_currency: str | None = None) -> bytes:
    """A one-statement camt.053 of credits/debits ``amounts`` (in minor units of ``currency``), balanced."""
    exponent = ISO4217_EXPONENTS[currency]

    def major(value: int) -> str:
        return f"{abs(value) / 10 ** exponent:.{exponent}f}" if exponent else str(abs(value))

    def balance(code: str, value: int) -> str:
        side = "CRDT" if value >= 0 else "DBIT"
        return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{major(value)}</Amt>'
                f"<CdtDbtInd>{side}</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>")

    entries = "".join(  # one <Ntry> a line: its line is its row
        f'\n<Ntry><Amt Ccy="{currency}">{major(value)}</Amt><CdtDbtInd>{"CRDT" if value > 0 else "DBIT"}</CdtDbtInd>'
        f"<BookgDt><Dt>2026-12-01</Dt></BookgDt><AcctSvcrRef>R{n}</AcctSvcrRef>"
        f"<AddtlNtryInf>GW7K2M9Q4XAB line {n}</AddtlNtryInf></Ntry>" for n, value in enumerate(amounts))
    opening = 10 ** 9
    return (f'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
            f"<Stmt><Id>S1</Id><Acct><Id><Othr><Id>0011004123456</Id></Othr></Id>"
            f"<Ccy>{account_currency or currency}</Ccy></Acct>{balance('OPBD', opening)}"
            f"{balance('CLBD', opening + sum(amounts))}{entries}</Stmt></BkToCstmrStmt></Document>").encode()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(currency=st.sampled_from(FOREIGN),
       amounts=st.lists(st.integers(1, 10 ** 8).flatmap(lambda v: st.sampled_from((v, -v))), min_size=1, max_size=6),
       labelled_vnd=st.booleans())
def test_any_currency_but_vnd_never_produces_a_line_or_a_posting(db, currency, amounts, labelled_vnd):
    # A statement of a foreign account, or one that claims a VND account but books foreign amounts.
    content = _camt(currency, amounts, account_currency="VND" if labelled_vnd else None)
    refused = _refusal(db, content, "camt053")
    assert refused.code == ("currency_mismatch" if labelled_vnd else "account_not_vnd")
    reconcile_bank(db, account="0011004123456", period_start=date(2026, 12, 1), period_end=date(2026, 12, 1),
                   items=[], started_by="officer:1", clock=CLOCK)
    assert _count(db, ReportLine) == 0 and _count(db, LedgerPosting) == 0


def test_a_balanced_vnd_statement_built_the_same_way_is_imported_and_booked(db):
    # The control of the property above: the same document in dong goes through and books its credit.
    import_report(db, _camt("VND", [200_000, -5_500]), "camt053", filename="s", imported_by="t", clock=CLOCK)
    reconcile_bank(db, account="0011004123456", period_start=date(2026, 12, 1), period_end=date(2026, 12, 1),
                   items=[], started_by="officer:1", clock=CLOCK)
    amounts = set(db.scalars(select(LedgerPosting.amount)))
    assert _count(db, ReportLine) == 2 and amounts == {200_000} and set(db.scalars(select(LedgerPosting.currency))) == {
        "VND"}


def _stored_by_an_earlier_version(db, account: str, currency: str, amount: int, text: str = "GUTSCHRIFT") -> None:
    """Rows as the import wrote them before it refused foreign currencies (minor units, foreign code)."""
    file = ReportFile(format="camt053", sha256=f"{currency}{amount}".ljust(64, "0"), filename="old.xml", size=0,
                      content=b"", imported_at=CLOCK.now(), imported_by="officer:7", line_count=1)
    db.add(file)
    db.flush()
    db.add(ReportStatement(file_id=file.id, index=0, account=account, currency=currency, opening=0, closing=amount,
                           reconciles=True))
    db.add(ReportLine(file_id=file.id, kind="bank", statement_index=0, row=1, booked_on=date(2026, 4, 2),
                      value_on=None, amount=amount, fee=0, net=amount, currency=currency, description=text,
                      counterparty=text, reversal=False))
    db.flush()


def test_a_bank_run_refuses_foreign_lines_stored_earlier_and_books_nothing(db):
    _stored_by_an_earlier_version(db, "CH2909000000250094239", "CHF", 450)
    with pytest.raises(ValidationFailed) as caught:
        reconcile_bank(db, account="CH2909000000250094239", period_start=date(2026, 4, 1),
                       period_end=date(2026, 4, 3), items=[], started_by="officer:1", clock=CLOCK)
    assert caught.value.code == "account_not_vnd" and "CHF" in caught.value.message
    assert _count(db, LedgerPosting) == 0 and _count(db, ReconRun) == 0


def test_a_treasury_run_refuses_foreign_lines_stored_earlier(db):
    _stored_by_an_earlier_version(db, "0011004123456", "USD", -8_000, text="Nop KBNN Ha Noi C418 TM 2557 T03/2026")
    with pytest.raises(ValidationFailed) as caught:
        reconcile_treasury(db, agency="HN-CA", period_start=date(2026, 4, 1), period_end=date(2026, 4, 3),
                           started_by="officer:1", rules=load_rules(), as_of=CLOCK.now(), clock=CLOCK)
    assert caught.value.code == "account_not_vnd" and "USD" in caught.value.message
    assert _count(db, LedgerPosting) == 0 and _count(db, ReconRun) == 0


def test_a_stripe_payout_reported_in_dollars_is_never_expected_or_booked_as_dong(db, stripe):
    report = (f"{STRIPE_HEADER}\ntxn_usd1,2026-12-01 02:00:00,2026-12-03 00:00:00,usd,20.00,0.78,19.22,charge,"
              "ch_usd1,Fee,po_usd,ch_usd1,pi_usd1,GW7K2M9Q4XAB\n")
    import_report(db, report.encode(), "stripe", filename="usd.csv", imported_by="t", clock=CLOCK)
    # A credit of 1,922 dong naming the payout: 1,922 is the payout's net in cents, not in dong.
    bank(db, ("03/12/2026", 1_922, "STRIPE PAYOUT po_usd"))
    bank_run = run(db)
    kinds = set(db.scalars(select(LedgerTransaction.kind)))
    assert kinds == {"unidentified_credit"}  # the dong that arrived, in suspense; no fee, no payout booked
    assert outcome_counts(db, bank_run.id) == {"missing_internally": 1}
