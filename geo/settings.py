"""Travel-cost and resolution parameters, overridable by ``SIAGA_GEO_*`` environment variables.

There is no road network for Indonesia installable here, so travel cost is a model: geodesic
distance times a circuity factor at an average road speed, plus a ferry leg between islands.
Every default below says where its figure comes from or why it was chosen.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GeoSettings(BaseSettings):
    """Parameters of point resolution and of the travel-cost model."""

    model_config = SettingsConfigDict(env_prefix="SIAGA_GEO_", frozen=True)

    # 12 nautical miles = 22.2 km is the territorial sea (UNCLOS art. 3; Indonesia's Law 6/1996).
    # A boat or a small island that Natural Earth 10m leaves out is rarely farther than that
    # from a mapped coast; a few km more covers the polygons' coarse coastline.
    max_offshore_km: float = Field(default=25.0, gt=0)

    # Road distance / geodesic distance. Published national averages are ~1.2-1.3
    # (1.26 is the figure in our REFERENCE.md); mountainous terrain reaches ~1.4. Indonesian
    # island interiors (Java's south, Sumatra's Bukit Barisan, Sulawesi, Papua) are
    # mountainous with sparse networks, so we take the upper value.
    circuity_factor: float = Field(default=1.4, ge=1.0)

    # Average loaded-truck speed door to door. Indonesian freight trucks average roughly
    # 30-40 km/h on national roads once congestion, mountain sections and rest stops are
    # included; relief convoys travel on the same roads. 35 km/h is the middle of that range.
    road_speed_kmh: float = Field(default=35.0, gt=0)

    # Ro-ro ferries (ASDP) and Pelni ships cruise at about 10-12 knots (18.5-22 km/h);
    # 18 km/h (~10 kn) allows for slower, older vessels on the long routes.
    ferry_speed_kmh: float = Field(default=18.0, gt=0)

    # Ferry lanes run port to port, not along the shortest gap between two coasts.
    sea_circuity_factor: float = Field(default=1.3, ge=1.0)

    # Fixed time per sea crossing: queueing at the port, loading and unloading trucks.
    # Merak-Bakauheni queues alone often run 2-6 h in peak periods; schedules on
    # long routes are sparser. 6 h is a planning figure, not a measurement.
    port_time_hours: float = Field(default=6.0, ge=0)


@lru_cache(maxsize=1)
def get_settings() -> GeoSettings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` in tests)."""
    return GeoSettings()
