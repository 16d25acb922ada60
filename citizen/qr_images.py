"""A VietQR payload drawn as an image: inline SVG for pages, PNG to print or download (segno)."""

from __future__ import annotations

import io

import segno

#: Error correction M, as bank apps and printed bills use: readable with a crease or a smudge.
ERROR_CORRECTION = "m"


def qr_svg(payload: str) -> str:
    """The QR as an inline SVG element (no request of its own)."""
    return segno.make(payload, error=ERROR_CORRECTION).svg_inline(scale=6, border=2, title="VietQR")


def qr_png(payload: str) -> bytes:
    """The QR as a PNG image with the quiet zone scanners need."""
    image = io.BytesIO()
    segno.make(payload, error=ERROR_CORRECTION).save(image, kind="png", scale=8, border=4)
    return image.getvalue()
