"""Parking errors, each with a stable ``code``; ``web/errors.py`` maps them to HTTP."""

from __future__ import annotations

from core.errors import DomainError


class ParkingError(DomainError):
    """Something about a parking request is not acceptable."""

    code = "parking_error"


class LotNotFound(ParkingError):
    """No lot with that code runs under the calling operator."""

    code = "lot_not_found"


class EventInvalid(ParkingError):
    """A gate event that cannot be taken: a vehicle class the lot does not take, a time too far off."""

    code = "parking_event_invalid"


class EventIdReused(ParkingError):
    """The operator sent another event under an event id it used before (a retry must be identical)."""

    code = "event_id_reused"


class SessionNotFound(ParkingError):
    """No parking session with that id for this caller."""

    code = "parking_session_not_found"


class PlateLinkedElsewhere(ParkingError):
    """The plate is linked to another citizen: it must be unlinked (or disputed) before it can be linked again."""

    code = "plate_linked_elsewhere"


class VehicleInvalid(ParkingError):
    """A plate or vehicle class that cannot be linked."""

    code = "vehicle_invalid"


class SessionNotClaimable(ParkingError):
    """The session's charge is another citizen's, paid, or has nothing to pay."""

    code = "parking_session_not_claimable"


class PassRefused(ParkingError):
    """A monthly pass that cannot be sold: the lot sells none for that vehicle, or not for that month."""

    code = "pass_refused"


class PassNotFound(ParkingError):
    """No such pass of the calling citizen."""

    code = "pass_not_found"


class DisputeNotFound(ParkingError):
    """No such dispute for this caller (an operator sees only its own lots' disputes)."""

    code = "dispute_not_found"


class DisputeInvalid(ParkingError):
    """A dispute or resolution that cannot be taken: an unknown reason, no note, a refund of an unpaid charge."""

    code = "dispute_invalid"


class DisputeAlreadyResolved(ParkingError):
    """The dispute was resolved otherwise already (by another officer or the operator)."""

    code = "dispute_already_resolved"
