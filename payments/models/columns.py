"""Column types shared by the payments tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer

#: A 64-bit surrogate key; SQLite only auto-increments a column declared exactly INTEGER.
ID = BigInteger().with_variant(Integer, "sqlite")
