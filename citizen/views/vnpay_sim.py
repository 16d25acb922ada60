"""The built-in VNPay simulator's page and merchant API (embedded default only, never in production).

It stands where VNPay's servers would: the payer lands on ``/vnpay-sim/paymentv2/vpcpay.html`` from the
signed payment URL, picks what happens (success, decline, a payment whose IPN never arrives, an IPN sent
three times, a debit VNPay reverses), and is sent back to the gateway's return URL, signed as VNPay signs
it. The IPNs go through the job worker to the gateway's IPN endpoint, never from the browser. The provider
reaches the merchant API in the process; the route below serves the same answers over HTTP.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request

from citizen import TEMPLATES
from core.money import vnd
from payments import dev_vnpay
from payments.providers.vnpay_simulator import SCENARIOS, SimulatorRefused, VnpaySimulator
from web.auth import public
from web.database import db_session

bp = Blueprint("vnpay_sim", __name__, url_prefix="/vnpay-sim", template_folder=TEMPLATES)


def _simulator() -> VnpaySimulator:
    simulator = current_app.extensions["gateway.runtime"].vnpay_simulator
    if simulator is None:
        abort(404)
    return simulator


@bp.get("/paymentv2/vpcpay.html")
@public
def page():
    """VNPay's payment page: the URL's hash is checked first, as VNPay checks it."""
    try:
        transaction = _simulator().open(request.args.to_dict(flat=True))
    except SimulatorRefused as refused:
        return render_template("vnpay/refused.html", refused=refused), 400
    return render_template("vnpay/simulator.html", transaction=transaction, amount=vnd(transaction.amount),
                           scenarios=list(SCENARIOS))


@bp.post("/paymentv2/vpcpay.html")
@public
def complete():
    """The payer's choice: VNPay's IPNs are staged for the worker, the payer goes back to the return URL."""
    simulator, txn_ref = _simulator(), request.form.get("txn_ref", "")
    if request.form.get("scenario") not in SCENARIOS or simulator.transaction(txn_ref) is None:
        abort(400)
    done = simulator.complete(txn_ref, request.form["scenario"])
    dev_vnpay.stage_ipns(db_session(), done.ipns)
    return redirect(done.return_url, 303)


@bp.post("/merchant_webapi/api/transaction")
@public
def api():
    """VNPay's merchant API: ``querydr`` and ``refund`` as signed JSON, answered signed."""
    status, body = _simulator().api(request.get_data(cache=False))
    return Response(body, status=status, mimetype="application/json")
