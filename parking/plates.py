"""Plates as gates read them and citizens type them: one normal form, one check."""

from __future__ import annotations

import re

_NOT_PLATE = re.compile(r"[^0-9A-Z]")


def normalise_plate(plate: str) -> str:
    """``29A-123.45`` and ``29a 12345`` are one plate: upper case, letters and digits only."""
    return _NOT_PLATE.sub("", plate.upper())


def plate_problem(plate: str) -> str | None:
    """Why a normalised plate cannot be one, or None."""
    return None if 4 <= len(plate) <= 12 else "the plate must have 4 to 12 letters and digits"
