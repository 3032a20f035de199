"""Places: properties (小区/项目), buildings and units (households). These are also the shapes the API returns."""

from __future__ import annotations

from datetime import datetime

from core.structs import Struct


class Property(Struct):
    id: str
    name: str
    address: str
    timezone: str
    geo_lat: float | None
    geo_lon: float | None
    geo_radius_m: int | None
    created_at: datetime
    updated_at: datetime


class Building(Struct):
    id: str
    property_id: str
    name: str
    created_at: datetime
    updated_at: datetime


class Unit(Struct):
    id: str
    property_id: str
    building_id: str
    number: str
    floor: int | None
    area_m2: float | None
    created_at: datetime
    updated_at: datetime
