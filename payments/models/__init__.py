"""The tables of the payments package; importing this module registers all of them on ``Base.metadata``."""

from payments.models.bank_transfers import BankTransferRecord
from payments.models.billing import Bill, Payment, PaymentEvent, ProviderEvent
from payments.models.idempotency import IdempotencyKey
from payments.models.ledger import (
    LedgerAccount,
    LedgerClosedDay,
    LedgerPayoutTag,
    LedgerPosting,
    LedgerTransaction,
)
from payments.models.receipts import Receipt, ReceiptCounter
from payments.models.refunds import Refund
from payments.models.treasury import TreasuryRemittance

__all__ = ["BankTransferRecord", "Bill", "IdempotencyKey", "LedgerAccount", "LedgerClosedDay", "LedgerPayoutTag",
           "LedgerPosting", "LedgerTransaction", "Payment", "PaymentEvent", "ProviderEvent", "Receipt",
           "ReceiptCounter", "Refund", "TreasuryRemittance"]
