"""``/api/v1/docs``: readable API documentation rendered from the OpenAPI document by a local script (no CDN)."""

from __future__ import annotations

from flask import Blueprint, render_template

from citizen import TEMPLATES
from web.auth import public

bp = Blueprint("api_docs_page", __name__, template_folder=TEMPLATES)


@bp.get("/api/v1/docs")
@public
def api_docs():
    """The API reference page; the browser renders /api/v1/openapi.json with web/static/js/api-docs.js."""
    return render_template("api/docs.html")
