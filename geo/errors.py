"""Errors raised by ``geo`` for bad input: each names the bad value and the field it came from."""

from __future__ import annotations


class GeoError(ValueError):
    """Base class for every error ``geo`` raises about a location.

    ``fields`` names the inputs at fault (``"lat"``, ``"lon"``); ``point`` says which point
    of a route they belong to (``"origin"``/``"destination"``) or is ``None`` for a single point.
    """

    def __init__(self, message: str, fields: tuple[str, ...], point: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.point = point

    def for_point(self, point: str) -> GeoError:
        """The same error, labelled as belonging to ``point`` of a route."""
        err = type(self)(f"{point}: {self.message}", self.fields, point)
        return err


class InvalidCoordinates(GeoError):
    """A coordinate is not a finite number or is outside its valid range."""


class SwappedCoordinates(GeoError):
    """The point is outside Indonesia, but inside once latitude and longitude are swapped."""


class OutsideIndonesia(GeoError):
    """The point is farther from Indonesian land than the allowed offshore distance."""
