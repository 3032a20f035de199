"""Distances on the ground, and a property's fence (its centre and `geo_radius_m`)."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

from core.structs import Frozen

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG): metres are good to 0.5 % anywhere, plenty for a fence


class Fence(Frozen, frozen=True):
    lat: float
    lon: float
    radius_m: float

    @classmethod
    def around(cls, lat: float | None, lon: float | None, radius_m: float | None) -> Fence | None:
        """A property's fence, when it has one (a centre and a radius)."""
        if lat is None or lon is None or radius_m is None:
            return None
        return cls(lat=lat, lon=lon, radius_m=radius_m)


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two positions (haversine)."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    h = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


def beyond(fence: Fence, lat: float, lon: float, *, margin_m: float, accuracy_m: float | None = None) -> float:
    """How many metres a position lies beyond the fence, once the margin and the position's own accuracy are
    allowed for (0 or less: inside)."""
    return metres(fence.lat, fence.lon, lat, lon) - fence.radius_m - max(margin_m, accuracy_m or 0.0)
