"""Wire shapes for setting up inspections: checklist templates, checkpoints, routes and the default responsible
person per category. Templates answer with inspections.models.Template / TemplateVersion."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from core.structs import Id, Latitude, Longitude, Name, Struct, Text
from core.vocabulary import Category
from inspections.models import Item, Stop

TemplateItems = Annotated[list[Item], Meta(min_length=1, max_length=200)]
TagCode = Annotated[str, Meta(min_length=1, max_length=200, description="the value in the QR code or on the NFC tag")]
Stops = Annotated[list[Stop], Meta(min_length=1, max_length=200)]
Tolerance = Annotated[int, Meta(ge=0, le=120, description="minutes either side of each expected time")]
TimeOfDay = Annotated[
    str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local time of day, HH:MM", examples=["22:00"])
]


class TemplateCreate(Struct):
    """A template's whole content; PUT takes the same body and makes a new version of it."""

    name_zh: Name
    name_en: Name
    category: Category
    items: TemplateItems


class CheckpointCreate(Struct):
    name: Name
    tag_code: TagCode
    building_id: Id | None = None
    location: Text = ""
    geo_lat: Latitude | None = None
    geo_lon: Longitude | None = None


class CheckpointUpdate(Struct):
    name: Name | UnsetType = UNSET
    tag_code: TagCode | UnsetType = UNSET
    building_id: Id | UnsetType | None = UNSET
    location: Text | UnsetType = UNSET
    geo_lat: Latitude | UnsetType | None = UNSET
    geo_lon: Longitude | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class CheckpointOut(Struct):
    id: str
    property_id: str
    name: str
    # null for staff: their phones match scans by tag_digest, so the codes never leave the office
    tag_code: str | None
    tag_digest: str
    building_id: str | None
    location: str
    geo_lat: float | None
    geo_lon: float | None
    active: bool
    created_at: datetime
    updated_at: datetime


class RouteCreate(Struct):
    """A route's whole plan; PUT takes the same body and replaces it (rounds already made keep their copy).
    A window with window_end before window_start runs past midnight."""

    name: Name
    stops: Stops
    tolerance_minutes: Tolerance = 5
    window_start: TimeOfDay | None = None
    window_end: TimeOfDay | None = None


class RouteOut(Struct):
    id: str
    property_id: str
    name: str
    stops: list[Stop]
    tolerance_minutes: int
    window_start: str | None
    window_end: str | None
    active: bool
    expected_minutes: int
    created_at: datetime
    updated_at: datetime


class DefaultResponsibleSet(Struct):
    user_id: Id


class DefaultResponsibleOut(Struct):
    property_id: str
    category: Category
    user_id: str
    user_name: str
