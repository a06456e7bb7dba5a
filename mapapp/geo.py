"""Geography shared by every layer: distance on the Earth and GeoNames feature-class sets.

One copy each, so that the resolver, the evaluation and the map agree on what
a kilometre and an area are.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius, as geopy's great-circle distance uses
ACC_KM = 161.0  # "within 100 miles": the geoparsing literature's accuracy radius

#: GeoNames feature classes of places that are areas with no single point:
#: parks and regions (L), water bodies (H), relief (T).  Administrative
#: divisions (A) are areas too, but they have a seat the resolver may prefer.
NATURAL_AREA_CLASSES = frozenset({"L", "H", "T"})
#: Feature classes the map draws as a ring rather than a pin: natural areas and admin divisions.
DRAWN_AREA_CLASSES = NATURAL_AREA_CLASSES | {"A"}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two (lat, lon) points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
