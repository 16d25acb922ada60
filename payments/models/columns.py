"""Column types shared by the payments tables."""

from __future__ import annotations

from core.db import BigId

#: A 64-bit surrogate key (the kernel's ``BigId``), under the name the payments models use.
ID = BigId
