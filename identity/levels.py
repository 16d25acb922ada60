"""e-ID assurance levels (Decree 69/2024/ND-CP): level 1 registered in the app, level 2 issued in person.

Providers name levels by ``acr`` strings that differ between deployments, so the mapping is configuration;
the gateway reasons only about the integers 0 (unknown), 1 and 2.
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN = 0
LEVEL_1 = 1
LEVEL_2 = 2


@dataclass(frozen=True)
class AcrLevels:
    """The provider's ``acr`` values for e-ID levels 1 and 2."""

    level1: str
    level2: str

    def level_of(self, acr: object) -> int:
        """Return the level an ``acr`` claim proves; anything unrecognised (or missing) proves nothing."""
        if not isinstance(acr, str):
            return UNKNOWN
        return {self.level1: LEVEL_1, self.level2: LEVEL_2}.get(acr, UNKNOWN)

    def acr_for(self, level: int) -> str:
        """Return the ``acr_values`` string that asks the provider for ``level``."""
        return self.level2 if level >= LEVEL_2 else self.level1


def meets(level: int, required: int) -> bool:
    """True when a session at ``level`` may use a service that requires ``required``."""
    return level >= required
