"""Translated messages for the domain errors a finance officer can meet on these pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.errors import DomainError

ERROR_MESSAGES = {
    "approver_is_proposer": _l("You proposed this resolution, so another finance approver must approve it."),
    "resolution_note_required": _l("Explain the proposed resolution in the note."),
    "invalid_transition": _l("This break cannot make that step from where it is now."),
    "movement_unknown": _l("Choose a movement from the list, or none."),
    "movement_account_invalid": _l("That account does not fit the chosen movement; choose another."),
    "movement_amount_invalid": _l("Enter the amount to move in whole dong, more than 0, for example 50000."),
    "already_confirmed": _l("This bank line has already been confirmed."),
    "suggestion_not_found": _l("This suggested match no longer exists."),
    "period_signed_off": _l("This period is signed off; corrections go into the next period."),
    "ledger_busy": _l("The ledger is busy with payments right now; sign off again in a moment."),
    "unknown_scope": _l("Choose a provider, or enter the bank account number."),
    "period_reversed": _l("The last day must not be before the first day."),
    "period_in_future": _l("The period cannot end after today."),
    "unknown_report_format": _l("Choose the format of the file."),
    "unknown_provider": _l("No reports are read for this provider."),
}


def message_for(error: DomainError) -> str:
    """Return the translated message for ``error``; a general one for codes not listed."""
    message = ERROR_MESSAGES.get(error.code)
    return str(message) if message is not None else str(_l("The request could not be completed."))
