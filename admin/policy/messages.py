"""What the checks that block a rule version say to policy staff, in the page's language, and what to do.

``subsidies`` knows no Flask, so its problems carry a stable code (``message_id``) and plain values; this
table turns them into sentences. A problem without an entry keeps the domain's English message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from subsidies.errors import SubsidyError

PROBLEM_MESSAGES = {
    "no_simulation": _l("No simulation report is attached. Run a simulation (section “Simulation” on this "
                        "page) so the report is attached, then try again."),
    "window_overlap": _l("%(first)s and %(second)s are both in force on %(day)s. Change the dates so that they "
                         "do not overlap; to replace a published version, start the new draft from that "
                         "version (“Start a new version from this one”)."),
    "successor_starts_too_early": _l("%(rule)s replaces %(predecessor)s but starts on %(start)s, which is not "
                                     "after %(predecessor)s starts (%(predecessor_start)s). Choose a start date "
                                     "after %(predecessor_start)s, or retire %(predecessor)s instead."),
    "predecessor_replaced": _l("%(predecessor)s has already been replaced by %(successor)s. Start the new draft "
                               "from %(successor)s instead."),
    "conflict": _l("%(first)s and %(second)s can both apply in layer %(layer)s with different effects and the same "
                   "priority %(priority)s. Give one of them a higher priority, or change their conditions or "
                   "dates so that they cannot both apply."),
    "base_fee_gap": _l("%(service)s has no base fee from %(start)s to %(end)s. Extend a base-fee version over "
                       "these days, or add one."),
    "unknown_code": _l("%(rule)s uses province code(s) %(codes)s, which are not in code list %(code_list)s. "
                       "Correct the codes or choose the right code list."),
    "unknown_code_list": _l("%(rule)s uses code list %(code_list)s, which is not loaded. Choose one of the "
                            "loaded code lists."),
    "unknown_fund": _l("%(rule)s draws on fund %(fund)s, which does not exist. Choose an existing subsidy fund."),
    "test_failed": _l("The attached test “%(test)s” fails: %(problems)s. Correct the rule or what the test "
                      "expects."),
    "retire_restores_overlap": _l("Retiring %(rule)s would put %(predecessor)s back in force as it was, over "
                                  "%(other)s. Retire %(other)s first, or publish a new version that replaces "
                                  "%(rule)s instead."),
}

ERROR_MESSAGES = {
    "rule_not_ready": _l("%(rule)s cannot be approved or published yet. Do what is listed below, then try "
                         "again."),
    "retire_refused": _l("%(rule)s cannot be retired. Do what is listed below, then try again."),
}


def problem_text(problem: Mapping[str, Any] | str) -> str:
    """The translated sentence for one problem (``Problem.to_dict``); plain text is shown as it is."""
    if isinstance(problem, str):
        return problem
    message = PROBLEM_MESSAGES.get(problem.get("message_id") or problem.get("code", ""))
    return _filled(message, problem.get("params") or {}) or str(problem.get("message", ""))


def error_text(error: SubsidyError) -> str:
    """The translated message of a refused step; the domain's own message for codes not listed."""
    return _filled(ERROR_MESSAGES.get(error.code), error.details or {}) or error.message


def _filled(message, params: Mapping[str, Any]) -> str | None:
    if message is None:
        return None
    try:
        return str(message) % params
    except (KeyError, TypeError, ValueError):  # a problem recorded without these values: fall back to English
        return None
