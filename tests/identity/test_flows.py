"""Login flows: one row per flow, bound to the browser, single use, expiring, never stored in the clear."""

from datetime import datetime

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from core.clock import UTC, FixedClock
from identity.errors import FlowRejected
from identity.flows import FLOW_LIFETIME, FlowRequest, consume_flow, purge_flows, s256_challenge, start_flow

REQUEST = FlowRequest(realm="citizen", issuer="https://op", redirect_uri="https://rp/cb", next_path="/account/")
BROWSER = "b" * 43


@pytest.fixture()
def clock():
    return FixedClock(datetime(2026, 11, 29, 8, 0, tzinfo=UTC))


def reason(db, state, browser, clock):
    with pytest.raises(FlowRejected) as refused:
        consume_flow(db, state, browser, clock=clock)
    return refused.value.reason


def test_a_flow_is_consumed_once(db, clock):
    flow = start_flow(db, REQUEST, BROWSER, clock=clock)
    assert consume_flow(db, flow.state, BROWSER, clock=clock).nonce == flow.nonce
    assert reason(db, flow.state, BROWSER, clock) == "state_reused"


def test_secrets_are_long_enough_and_pkce_is_s256(db, clock):
    flow = start_flow(db, REQUEST, BROWSER, clock=clock)
    assert len(flow.state) >= 43 and len(flow.nonce) >= 43 and 43 <= len(flow.code_verifier) <= 128
    # Cross-checked with authlib's implementation of RFC 7636 section 4.2.
    assert s256_challenge(flow.code_verifier) == create_s256_code_challenge(flow.code_verifier)


def test_several_tabs_keep_separate_flows(db, clock):
    first, second = start_flow(db, REQUEST, BROWSER, clock=clock), start_flow(db, REQUEST, BROWSER, clock=clock)
    assert consume_flow(db, second.state, BROWSER, clock=clock).nonce == second.nonce
    assert consume_flow(db, first.state, BROWSER, clock=clock).nonce == first.nonce


def test_a_flow_expires(db, clock):
    flow = start_flow(db, REQUEST, BROWSER, clock=clock)
    clock.advance(seconds=FLOW_LIFETIME.total_seconds())
    assert reason(db, flow.state, BROWSER, clock) == "state_expired"


@pytest.mark.parametrize(("state", "browser", "expected"), [
    (None, BROWSER, "state_missing"),
    ("", BROWSER, "state_missing"),
    ("u" * 43, BROWSER, "state_unknown"),
    ("u" * 129, BROWSER, "state_oversized"),
])
def test_bad_states_are_refused(db, clock, state, browser, expected):
    assert reason(db, state, browser, clock) == expected


@pytest.mark.parametrize("browser", [None, "", "c" * 43])
def test_another_browser_cannot_finish_the_flow(db, clock, browser):
    flow = start_flow(db, REQUEST, BROWSER, clock=clock)
    assert reason(db, flow.state, browser, clock) == "state_other_browser"
    assert consume_flow(db, flow.state, BROWSER, clock=clock)  # and the real browser still can


def test_old_flows_are_purged_after_a_day(db, clock):
    start_flow(db, REQUEST, BROWSER, clock=clock)
    assert purge_flows(db, clock=clock) == 0
    clock.advance(days=2)
    assert purge_flows(db, clock=clock) == 1


def test_housekeeping_purges_only_what_expired(db, clock):
    from identity.housekeeping import purge_expired

    start_flow(db, REQUEST, BROWSER, clock=clock)
    assert purge_expired(db, clock=clock)["login_flows"] == 0
    clock.advance(days=2)
    purged = purge_expired(db, clock=clock)
    assert purged["login_flows"] == 1 and set(purged) >= {"devidp_codes", "web_sessions", "used_logout_tokens"}
