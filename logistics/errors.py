"""Domain errors of the logistics core: bad input and broken invariants (never shortfalls)."""

from __future__ import annotations


class LogisticsError(Exception):
    """Base class of every error raised by ``logistics``."""


class InvalidInput(LogisticsError, ValueError):
    """An input value is malformed or out of range; the message names the bad value."""


class UnknownItem(LogisticsError, KeyError):
    """An item id is not in the catalogue."""


class UnknownWarehouse(LogisticsError, KeyError):
    """A warehouse id is referenced (in stock or travel hours) but not known."""


class UnknownShelter(LogisticsError, KeyError):
    """A shelter id is referenced (in needs or travel hours) but not known."""


class UnknownProfile(LogisticsError, KeyError):
    """No packaged needs-standards profile has this id."""


class InvalidShipmentTransition(LogisticsError):
    """A shipment was asked to move to a state its current state does not allow."""


class SolverError(LogisticsError):
    """The LP solver failed on a well-formed problem (a bug or a numerical breakdown)."""
