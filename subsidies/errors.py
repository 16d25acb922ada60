"""Subsidy errors: one root, each subclass with a stable ``code`` that API clients and tests rely on."""

from __future__ import annotations

from core.errors import DomainError


class SubsidyError(DomainError):
    """Root of every error raised by the subsidies package."""

    code = "subsidy_error"


class RuleInvalid(SubsidyError):
    """A rule definition breaks the rule schema: unknown field, operator or effect, bad value, no legal basis."""

    code = "rule_invalid"


class RequestInvalid(SubsidyError):
    """A quote request with a value outside the vocabulary (channel, category, e-ID level, quantity)."""

    code = "quote_request_invalid"


class UnknownService(SubsidyError):
    """No service in the fee catalogue has this code."""

    code = "unknown_service"


class NoBaseFee(SubsidyError):
    """No base-fee rule is in force for the service on the decision date, so nothing can be priced."""

    code = "no_base_fee"


class NoPublishedRuleSet(SubsidyError):
    """Nothing has been published yet, or the pinned rule set is missing."""

    code = "no_published_rule_set"


class QuoteNotFound(SubsidyError):
    """No stored quote has this id."""

    code = "quote_not_found"


class QuoteNotOpen(SubsidyError):
    """The quote was already paid, expired or cancelled."""

    code = "quote_not_open"


class FundUnknown(SubsidyError):
    """No subsidy fund has this code."""

    code = "fund_unknown"


class WorkflowRefused(SubsidyError):
    """A rule's state change that the workflow does not allow (wrong state, failed checks)."""

    code = "workflow_refused"


class RuleNotReady(WorkflowRefused):
    """Checks block approval or publication; ``details["problems"]`` lists each with its own code and values."""

    code = "rule_not_ready"


class RetireRefused(WorkflowRefused):
    """Retiring this version would put the version it replaced back in force over another published one."""

    code = "retire_refused"


class AuthorCannotApprove(SubsidyError):
    """The author of a rule change tried to approve it: a second person must."""

    code = "author_cannot_approve"


class RuleImmutable(SubsidyError):
    """A version that left the draft state cannot be edited; make a new version instead."""

    code = "rule_immutable"


class RegistryImportInvalid(SubsidyError):
    """A beneficiary registry CSV has a bad row; the message names the line."""

    code = "registry_import_invalid"
