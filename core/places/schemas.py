"""Input shapes for places: Create with required fields, Update with UNSET for what is left alone."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from core.structs import Id, Latitude, Longitude, Name, Radius, Struct, Text, TimeZone

UnitNumber = Annotated[str, Meta(min_length=1, max_length=40, examples=["1-301"])]
Floor = Annotated[int, Meta(ge=-10, le=300)]
Area = Annotated[float, Meta(gt=0, le=100_000)]


class PropertyCreate(Struct):
    name: Name
    timezone: TimeZone = "Asia/Shanghai"
    address: Text = ""
    geo_lat: Latitude | None = None
    geo_lon: Longitude | None = None
    geo_radius_m: Radius | None = None


class PropertyUpdate(Struct):
    name: Name | UnsetType = UNSET
    timezone: TimeZone | UnsetType = UNSET
    address: Text | UnsetType = UNSET
    geo_lat: Latitude | UnsetType | None = UNSET
    geo_lon: Longitude | UnsetType | None = UNSET
    geo_radius_m: Radius | UnsetType | None = UNSET


class BuildingCreate(Struct):
    name: Name


class BuildingUpdate(Struct):
    name: Name | UnsetType = UNSET


class UnitCreate(Struct):
    building_id: Id
    number: UnitNumber
    floor: Floor | None = None
    area_m2: Area | None = None


class UnitUpdate(Struct):
    number: UnitNumber | UnsetType = UNSET
    floor: Floor | UnsetType | None = UNSET
    area_m2: Area | UnsetType | None = UNSET
