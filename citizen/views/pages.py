"""Public pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from citizen import TEMPLATES
from core.clock import SYSTEM_CLOCK

bp = Blueprint("pages", __name__, template_folder=TEMPLATES)


@bp.get("/")
def home():
    """Say what the gateway does and for whom."""
    return render_template("home.html", now=SYSTEM_CLOCK.now())
