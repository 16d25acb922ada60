"""The citizen-facing web app and public API: app factory, edges, templates, jobs wiring and CLI."""

from gateway.app import create_app

__all__ = ["create_app"]
