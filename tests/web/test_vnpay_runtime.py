"""Which VNPay a process talks to: the configured terminal over the network, else the built-in simulator."""

from __future__ import annotations

from core.settings import Settings
from payments.providers.vnpay import RequestsJsonTransport
from payments.providers.vnpay_simulator import SimulatorTransport
from web.runtime import SIMULATOR_TMN_CODE, vnpay_terminal

VNPAY = {"GATEWAY_VNPAY_TMN_CODE": "DEMOV210", "GATEWAY_VNPAY_HASH_SECRET": "h" * 32,
         "GATEWAY_VNPAY_PAYMENT_URL": "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
         "GATEWAY_VNPAY_API_URL": "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"}


def _settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"GATEWAY_INSTANCE_PATH": str(tmp_path), **env})


def test_a_configured_terminal_is_reached_over_the_network_with_its_own_addresses(tmp_path):
    config, transport = vnpay_terminal(_settings(tmp_path, **VNPAY), simulator=None)
    assert (config.tmn_code, config.payment_url, config.api_url) == (
        "DEMOV210", VNPAY["GATEWAY_VNPAY_PAYMENT_URL"], VNPAY["GATEWAY_VNPAY_API_URL"])
    assert isinstance(transport, RequestsJsonTransport)


def test_without_a_terminal_the_simulator_is_the_target_in_the_process(tmp_path, make_app):
    app = make_app()
    runtime = app.extensions["gateway.runtime"]
    assert runtime.vnpay_simulator is not None and "vnpay" in runtime.providers
    config, transport = vnpay_terminal(runtime.settings, runtime.vnpay_simulator)
    assert config.tmn_code == SIMULATOR_TMN_CODE and config.payment_url.endswith("/vnpay-sim/paymentv2/vpcpay.html")
    assert isinstance(transport, SimulatorTransport)


def test_a_configured_terminal_serves_no_simulator(make_app):
    app = make_app(**{name.removeprefix("GATEWAY_").lower(): value for name, value in VNPAY.items()})
    assert app.extensions["gateway.runtime"].vnpay_simulator is None
    assert app.test_client().get("/vnpay-sim/paymentv2/vpcpay.html").status_code == 404
