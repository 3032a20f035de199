"""Settings: one frozen msgspec Struct read from the environment.

A bad value stops the program with a message naming the variable and what it expects.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

Port = Annotated[int, Meta(ge=1, le=65535)]
Seconds = Annotated[int, Meta(ge=1)]
Bytes = Annotated[int, Meta(ge=1024)]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    database_url: str | None = None
    redis_url: str | None = None
    home: str = "./.fieldwork"
    host: str = "127.0.0.1"
    port: Port = 8000
    secret_key: Annotated[str, Meta(min_length=32)] | None = None
    access_token_ttl: Seconds = 900
    refresh_token_ttl: Seconds = 30 * 24 * 3600
    invitation_ttl: Seconds = 14 * 24 * 3600
    max_body_bytes: Bytes = 1024 * 1024
    max_import_bytes: Bytes = 8 * 1024 * 1024
    max_push_bytes: Bytes = 16 * 1024 * 1024
    login_attempts: Annotated[int, Meta(ge=1)] = 5
    login_window: Seconds = 900
    namespace: Annotated[str, Meta(pattern=r"^[a-z0-9_:-]{1,40}$")] = "fieldwork"
    log_level: Annotated[str, Meta(pattern="^(DEBUG|INFO|WARNING|ERROR)$")] = "INFO"
    db_pool_size: Annotated[int, Meta(ge=1, le=200)] = 10
    sync_retention_days: Annotated[int, Meta(ge=1, le=3650)] = 90
    webhook_max_attempts: Annotated[int, Meta(ge=1, le=100)] = 8
    webhook_backoff_seconds: Seconds = 30
    webhook_timeout_seconds: Annotated[int, Meta(ge=1, le=300)] = 10
    # CIDRs webhooks may reach although they are not public (an on-premises receiver); checked in from_env
    webhook_allow_networks: str = ""
    schedule_horizon_days: Annotated[int, Meta(ge=1, le=365)] = 14
    reminders: Annotated[str, Meta(pattern=r"^[0-9]{1,4}(,[0-9]{1,4})*$")] = "24,2"
    escalate_supervisors_hours: Annotated[int, Meta(ge=0, le=24 * 90)] = 4
    escalate_admins_hours: Annotated[int, Meta(ge=0, le=24 * 90)] = 24
    ticket_visit_days: Annotated[int, Meta(ge=0, le=90)] = 3
    ticket_autoconfirm_days: Annotated[int, Meta(ge=1, le=90)] = 7
    photo_store: Annotated[str, Meta(pattern=r"^(file://|s3://|/)")] | None = None
    max_photo_bytes: Bytes = 50 * 1024 * 1024
    max_image_pixels: Annotated[int, Meta(ge=1_000_000, le=1_000_000_000)] = 50_000_000
    upload_expiry_hours: Annotated[int, Meta(ge=1, le=24 * 90)] = 24
    likeness_window_days: Annotated[int, Meta(ge=1, le=3650)] = 90
    evidence_time_tolerance_minutes: Annotated[int, Meta(ge=1, le=24 * 60)] = 30
    evidence_max_walk_kmh: Annotated[float, Meta(ge=3, le=100)] = 12.0
    evidence_min_round_share: Annotated[float, Meta(ge=0, le=1)] = 0.5
    clock_file: str | None = None
    request_body_timeout: Annotated[int, Meta(ge=1, le=3600)] = 30
    trusted_proxies: Annotated[str, Meta(pattern=r"^[0-9A-Fa-f:./*, ]*$")] = ""
    # the address owners reach the server at, for links printed or sent to them (a scheme and a host, no path)
    public_url: Annotated[str, Meta(pattern=r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?$")] | None = None

    @property
    def reminder_hours(self) -> tuple[int, ...]:
        return tuple(int(h) for h in self.reminders.split(","))

    @property
    def webhook_allowed_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.webhook_allow_networks)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def public_base(self) -> str | None:
        """public_url without its trailing slash, ready for a path to be appended."""
        return self.public_url.rstrip("/") if self.public_url else None

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser().resolve()

    @property
    def photo_store_url(self) -> str:
        return self.photo_store or f"file://{self.home_path / 'photos'}"

    @property
    def upload_dir(self) -> Path:
        """Where partial uploads are staged (a filesystem the API replicas and workers share)."""
        return self.home_path / "uploads"


# Field name -> environment variable, and what a person should put there.
ENV: dict[str, tuple[str, str]] = {
    "database_url": ("DATABASE_URL", "a postgresql:// URL; unset = embedded PostgreSQL"),
    "redis_url": ("REDIS_URL", "a redis:// or unix:// URL; unset = embedded Redis"),
    "home": ("FIELDWORK_HOME", "the data directory (default ./.fieldwork)"),
    "host": ("FIELDWORK_HOST", "the address the API listens on (default 127.0.0.1)"),
    "port": ("FIELDWORK_PORT", "a TCP port 1-65535 (default 8000)"),
    "secret_key": ("FIELDWORK_SECRET_KEY", "at least 32 characters; unset = generated into the data directory"),
    "access_token_ttl": ("FIELDWORK_ACCESS_TOKEN_TTL", "access-token lifetime in seconds (default 900)"),
    "refresh_token_ttl": ("FIELDWORK_REFRESH_TOKEN_TTL", "refresh-token lifetime in seconds (default 30 days)"),
    "invitation_ttl": ("FIELDWORK_INVITATION_TTL", "owner invitation lifetime in seconds (default 14 days)"),
    "max_body_bytes": ("FIELDWORK_MAX_BODY_BYTES", "largest JSON request body in bytes, >= 1024 (default 1 MiB)"),
    "max_import_bytes": ("FIELDWORK_MAX_IMPORT_BYTES", "largest import file in bytes, >= 1024 (default 8 MiB)"),
    "max_push_bytes": ("FIELDWORK_MAX_PUSH_BYTES", "largest sync push in bytes, >= 1024 (default 16 MiB)"),
    "login_attempts": (
        "FIELDWORK_LOGIN_ATTEMPTS",
        "failed logins allowed per login and client address per window, >= 1 (default 5); the other limits are "
        "derived from it (`docs/security.md`)",
    ),
    "login_window": ("FIELDWORK_LOGIN_WINDOW", "the login rate-limit window in seconds (default 900)"),
    "namespace": ("FIELDWORK_NAMESPACE", "Redis key prefix, [a-z0-9_:-]{1,40} (default fieldwork)"),
    "log_level": ("FIELDWORK_LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR (default INFO)"),
    "db_pool_size": ("FIELDWORK_DB_POOL_SIZE", "database connections per process, 1-200 (default 10)"),
    "sync_retention_days": (
        "FIELDWORK_SYNC_RETENTION_DAYS",
        "days deletions are kept for offline devices, 1-3650 (default 90); older devices re-sync fully",
    ),
    "webhook_max_attempts": (
        "FIELDWORK_WEBHOOK_MAX_ATTEMPTS",
        "tries of one notification (webhook or inbox) before it is marked dead, 1-100 (default 8)",
    ),
    "webhook_backoff_seconds": (
        "FIELDWORK_WEBHOOK_BACKOFF_SECONDS",
        "wait before the first retry, doubled after each failure, with jitter (default 30)",
    ),
    "webhook_timeout_seconds": (
        "FIELDWORK_WEBHOOK_TIMEOUT_SECONDS",
        "how long one webhook POST may take, 1-300 seconds (default 10)",
    ),
    "webhook_allow_networks": (
        "FIELDWORK_WEBHOOK_ALLOW_NETWORKS",
        "private networks webhooks may reach, comma-separated CIDRs such as 10.20.0.0/16,fd00::/8 "
        "(default none: public addresses only)",
    ),
    "schedule_horizon_days": (
        "FIELDWORK_SCHEDULE_HORIZON_DAYS",
        "days ahead the worker makes scheduled rounds, 1-365 (default 14)",
    ),
    "reminders": ("FIELDWORK_REMINDERS", "hours before a deadline to remind, comma-separated (default 24,2)"),
    "escalate_supervisors_hours": (
        "FIELDWORK_ESCALATE_SUPERVISORS_HOURS",
        "hours after a missed deadline to tell the property's supervisors (default 4)",
    ),
    "ticket_visit_days": (
        "FIELDWORK_TICKET_VISIT_DAYS",
        "days after a ticket is resolved that its return visit (回访) is due, 0-90 (default 3)",
    ),
    "ticket_autoconfirm_days": (
        "FIELDWORK_TICKET_AUTOCONFIRM_DAYS",
        "days a resolved ticket waits for the owner's answer before it is confirmed for them, 1-90 (default 7)",
    ),
    "escalate_admins_hours": (
        "FIELDWORK_ESCALATE_ADMINS_HOURS",
        "hours after a missed deadline to tell the org's admins (default 24)",
    ),
    "photo_store": (
        "FIELDWORK_PHOTO_STORE",
        "file:///dir or s3://bucket/prefix (S3 credentials from AWS_* variables); unset = $FIELDWORK_HOME/photos",
    ),
    "max_photo_bytes": ("FIELDWORK_MAX_PHOTO_BYTES", "largest photo upload in bytes (default 50 MiB)"),
    "max_image_pixels": (
        "FIELDWORK_MAX_IMAGE_PIXELS",
        "largest photo in width x height, checked before decoding (default 50,000,000)",
    ),
    "upload_expiry_hours": (
        "FIELDWORK_UPLOAD_EXPIRY_HOURS",
        "hours an unfinished upload is kept after its last bytes, 1-2160 (default 24)",
    ),
    "likeness_window_days": (
        "FIELDWORK_LIKENESS_WINDOW_DAYS",
        "days back a photo is compared with the same property's photos for near duplicates, 1-3650 (default 90)",
    ),
    "evidence_time_tolerance_minutes": (
        "FIELDWORK_EVIDENCE_TIME_TOLERANCE_MINUTES",
        "minutes a photo's EXIF capture time may be from its check's before it is flagged, 1-1440 (default 30)",
    ),
    "evidence_max_walk_kmh": (
        "FIELDWORK_EVIDENCE_MAX_WALK_KMH",
        "speed between two checkpoints of a round above which it is flagged, km/h, 3-100 (default 12)",
    ),
    "evidence_min_round_share": (
        "FIELDWORK_EVIDENCE_MIN_ROUND_SHARE",
        "a round done in less than this share of its route's expected minutes is flagged, 0-1 (default 0.5)",
    ),
    "clock_file": (
        "FIELDWORK_CLOCK_FILE",
        "a file holding the instant the API and workers take as now (ISO 8601 with offset, read at each look; "
        "for tests and rehearsals); unset = the system clock",
    ),
    "request_body_timeout": (
        "FIELDWORK_REQUEST_BODY_TIMEOUT",
        "seconds a request body may go without a byte arriving before the request is dropped (408), 1-3600 "
        "(default 30)",
    ),
    "trusted_proxies": (
        "FIELDWORK_TRUSTED_PROXIES",
        "comma-separated addresses or networks (CIDR) of your reverse proxies, whose `X-Forwarded-For` names the "
        "client; unset = none: the connecting address is the client",
    ),
    "public_url": (
        "FIELDWORK_PUBLIC_URL",
        "the http(s) address owners reach the server at, a scheme and a host with no path, such as "
        "https://wy.example.com, for the links printed on survey slips; an https address also marks the pages' form "
        "cookie Secure (the forms then work over HTTPS only); unset = the address each request came to",
    ),
}


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.20.0.0/16,fd00::/8` -> networks; ValueError naming the bad entry (host bits set, not a CIDR)."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry))
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not a network: {exc}") from None
    return tuple(networks)


class SettingsError(Exception):
    """A configuration value is missing or wrong; the message names the variable."""


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    raw = {field: env[var] for field, (var, _) in ENV.items() if env.get(var, "") != ""}
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec says "... - at `$.port`": turn the path back into the variable name.
        message = str(exc)
        for field, (var, expected) in ENV.items():
            if message.endswith(f"`$.{field}`"):
                shown = "(hidden)" if "SECRET" in var else repr(env.get(var))
                raise SettingsError(
                    f"{var}={shown} is not valid: expected {expected} ({message.rsplit(' - ', 1)[0]})"
                ) from None
        raise SettingsError(message) from None
    try:  # a bad CIDR stops the program now, not at the first delivery
        settings.webhook_allowed_networks  # noqa: B018
    except ValueError as exc:
        var, expected = ENV["webhook_allow_networks"]
        raise SettingsError(f"{var}={env.get(var)!r} is not valid: expected {expected} ({exc})") from None
    return settings


def with_secret(settings: Settings) -> Settings:
    """Return settings with a secret key: the configured one, or one kept in the data directory.

    Keeping the generated key on disk lets the API and the worker, and restarts, share it.
    """
    if settings.secret_key:
        return settings
    path = settings.home_path / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"secret.key.{os.getpid()}.tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        # link() fails if another process won the race: then read theirs
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        tmp.unlink(missing_ok=True)
    return msgspec.structs.replace(settings, secret_key=path.read_text().strip())
