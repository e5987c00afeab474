"""One typed, strict configuration tree: a TOML file, then `FIREWATCH_*` variables, which win.

The contract's variables (CONTRACT.md section 5) map onto named keys; any other key can be set
with `FIREWATCH_<SECTION>__<KEY>` (a double underscore between section and key). Unknown keys,
in the file or the environment, are errors: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from firewatch.errors import ConfigError
from firewatch.kernel.contract import E164_PATTERN, VenueType

ENV_PREFIX: Final = "FIREWATCH_"
DEFAULT_FILE: Final = Path("firewatch.toml")

CONTRACT_VARIABLES: Final[dict[str, tuple[str, str]]] = {
    "FIREWATCH_DATABASE_URL": ("database", "url"),
    "FIREWATCH_MQTT_URL": ("mqtt", "url"),
    "FIREWATCH_API_BIND": ("api", "bind"),
    "FIREWATCH_ADMIN_TOKEN": ("api", "admin_token"),
    "FIREWATCH_SMS_URL": ("notify", "sms_url"),
    "FIREWATCH_PUSH_URL": ("notify", "push_url"),
    "FIREWATCH_WEBHOOK_URL": ("notify", "webhook_url"),
    "FIREWATCH_TIMEZONE": ("general", "timezone"),
}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_url(
    value: SecretStr | None, schemes: tuple[str, ...], form: str, *, host_required: bool = True
) -> SecretStr | None:
    if value is None:
        return None
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in schemes or (host_required and not parts.hostname):
        raise ValueError(f"expected {form}")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError(f"expected {form} (the port is not a number)") from None
    return value


def mask_url(url: str) -> str:
    """The URL with its password replaced, for logs and `config show`.

    >>> mask_url("postgresql://fw:s3cret@db:5432/fw")
    'postgresql://fw:***@db:5432/fw'
    >>> mask_url("mqtt://broker:1883")
    'mqtt://broker:1883'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class DatabaseConfig(_Section):
    url: SecretStr | None = Field(
        default=None,
        description="postgresql://user:pass@host:port/db; unset: an embedded PostgreSQL",
    )
    pool_size: Annotated[int, Field(ge=1, le=64)] = Field(default=4, description="connections")
    partition_days_ahead: Annotated[int, Field(ge=1, le=90)] = Field(
        default=7, description="daily readings partitions kept created ahead of today"
    )
    retention_days: Annotated[int, Field(ge=7, le=3650)] = Field(
        default=400, description="readings older than this are dropped (TimescaleDB retention)"
    )

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        # No host is fine: libpq then uses a Unix socket (`?host=/run/dir` or its default).
        return _check_url(
            value,
            ("postgresql", "postgres"),
            "postgresql://user:pass@host:port/db",
            host_required=False,
        )


class MqttConfig(_Section):
    url: SecretStr | None = Field(
        default=None,
        description="mqtt://user:pass@host:port of the broker; unset: an embedded broker",
    )
    client_id: str = Field(default="firewatch-engine", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    session_expiry_s: Annotated[int, Field(ge=60)] = Field(
        default=7 * 24 * 3600, description="how long the broker keeps our session while we are down"
    )

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: SecretStr | None) -> SecretStr | None:
        return _check_url(value, ("mqtt", "mqtts"), "mqtt://user:pass@host:port")


class ApiConfig(_Section):
    bind: str = Field(default="127.0.0.1:8080", pattern=r"^[^:\s]+:[0-9]{1,5}$")
    admin_token: SecretStr | None = Field(default=None, description="bootstrap admin bearer token")
    query_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="a request's database work is cancelled after this"
    )

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("expected a token of at least 16 characters")
        return value


class NotifyConfig(_Section):
    sms_url: str | None = Field(default=None, pattern=r"^https?://")
    push_url: str | None = Field(default=None, pattern=r"^https?://")
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")


class IngestConfig(_Section):
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 2000
    batch_max_age_ms: Annotated[int, Field(ge=1, le=60_000)] = 200
    queue_size: Annotated[int, Field(ge=100, le=1_000_000)] = 50_000
    max_future_s: Annotated[int, Field(ge=0)] = Field(
        default=300, description="device timestamps further ahead of our clock are rejected"
    )
    max_age_s: Annotated[int, Field(ge=60)] = Field(
        default=7 * 24 * 3600, description="device timestamps older than this are rejected"
    )


class EngineConfig(_Section):
    partition: str = Field(
        default="1/1",
        pattern=r"^[1-9][0-9]*/[1-9][0-9]*$",
        description="K/N: this instance owns the K-th of N shares of the venues",
    )
    partition_key: str = Field(
        default="venue", pattern=r"^(venue|community)$", description="what is hashed into shares"
    )
    warm_lookback_s: Annotated[float, Field(ge=0, le=7 * 86400)] | None = Field(
        default=None,
        description="history replayed (without outputs) to rebuild rule windows and baselines"
        " at start-up; unset: the longest rule window plus a margin",
    )
    stage_retries: Annotated[int, Field(ge=0, le=20)] = Field(
        default=3, description="retries of a batch a stage raised on, before it is quarantined"
    )
    retry_backoff_s: Annotated[float, Field(gt=0, le=60)] = Field(
        default=0.5, description="first retry's wait; doubles per retry"
    )
    lag_alert_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=10.0,
        description="evaluation lag (oldest stored-but-unevaluated input) that alerts the"
        " control room",
    )
    heartbeat_s: Annotated[float, Field(ge=1, le=300)] = Field(
        default=5.0, description="how often the engine publishes its heartbeat"
    )


class WatchdogConfig(_Section):
    gone_after_s: Annotated[float, Field(ge=1, le=3600)] = Field(
        default=30.0,
        description="an engine instance silent (offline, or no heartbeat) this long is reported",
    )
    partitions: list[str] = Field(
        default_factory=list,
        description="partition names that must be up (e.g. p1of2); empty: every one seen",
    )
    client_id: str = Field(default="firewatch-watchdog", pattern=r"^[A-Za-z0-9_-]{1,64}$")


class RulesConfig(_Section):
    dir: Path | None = Field(
        default=None, description="rules directory; unset: the shipped library"
    )
    reload_s: Annotated[float, Field(ge=0.1, le=3600)] = Field(
        default=2.0, description="how often the rules directory is checked for changes"
    )
    registry_refresh_s: Annotated[float, Field(ge=1, le=3600)] = 30.0


class CasesConfig(_Section):
    departments: tuple[str, ...] = Field(
        default=(
            "police_station",
            "market_supervision",
            "law_enforcement",
            "construction_centre",
            "housing_office",
            "fire_rescue",
        ),
        min_length=1,
        description="departments a case can be dispatched to for joint handling",
    )
    immediate_hours: Annotated[int, Field(ge=1, le=72)] = 24
    deadline_days: dict[str, Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=dict, description="days to fix, per hazard; others: default_days"
    )
    default_days: Annotated[int, Field(ge=1, le=365)] = 7
    recurrence_days: Annotated[int, Field(ge=1, le=730)] = 90
    overdue_listing_days: Annotated[int, Field(ge=1, le=365)] = 30
    due_soon_hours: Annotated[int, Field(ge=0, le=168)] = 24
    reminder_every_hours: Annotated[int, Field(ge=1, le=720)] = 24


PolicyName = Literal["persistence", "corroboration", "positive_alarm_sequence"]
KITCHEN_POLICY: Final[dict[str, PolicyName]] = {"small_restaurant": "corroboration"}


class AlertingConfig(_Section):
    ack_base_url: str = Field(
        default="http://127.0.0.1:8080/api/v1/ack",
        pattern=r"^https?://",
        description="base of the acknowledgement links in notifications (served by the API)",
    )
    ack_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the acknowledgement links (32+ characters); unset: a random"
        " key per start, so links sent before a restart no longer work",
    )
    ack_ttl_s: Annotated[int, Field(ge=60, le=7 * 86400)] = Field(
        default=7200, description="how long a link works"
    )
    verify_s: Annotated[float, Field(ge=1, le=60)] = Field(
        default=30, description="alarm verification period, at most 60 s"
    )
    policies: dict[str, PolicyName] = Field(
        default_factory=lambda: dict(KITCHEN_POLICY),
        description="confirmation policy per venue type; the others: persistence",
    )
    chief_after_s: Annotated[float, Field(gt=0)] = 90
    office_after_s: Annotated[float, Field(gt=0)] = 180
    brigade_after_s: Annotated[float, Field(gt=0)] = 300
    renotify_s: Annotated[float, Field(gt=0)] = Field(
        default=60, description="reminder interval until acknowledged"
    )
    office_phones: list[str] = Field(
        default_factory=list, description="the subdistrict fire-safety office, E.164"
    )
    chief_phones: dict[str, list[str]] = Field(
        default_factory=dict, description="station_id: chief's phones (default: its first phone)"
    )
    grid_staff: dict[str, list[str]] = Field(
        default_factory=dict, description="grid: grid staff phones, told of device trouble"
    )
    rate_limit: Annotated[int, Field(ge=1)] = Field(
        default=10, description="notices per recipient and channel per window (red exempt)"
    )
    rate_window_s: Annotated[float, Field(gt=0)] = 600
    delivery_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5

    @field_validator("policies")
    @classmethod
    def _venue_types(cls, value: dict[str, PolicyName]) -> dict[str, PolicyName]:
        unknown = sorted(set(value) - {str(t) for t in VenueType})
        if unknown:
            raise ValueError(f"unknown venue type(s) {', '.join(unknown)}")
        return value

    @field_validator("office_phones")
    @classmethod
    def _e164_list(cls, value: list[str]) -> list[str]:
        bad = [p for p in value if E164_PATTERN.fullmatch(p) is None]
        if bad:
            raise ValueError(f"expected E.164 phone numbers (+86...), got {len(bad)} other(s)")
        return value

    @field_validator("chief_phones", "grid_staff")
    @classmethod
    def _e164_map(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for phones in value.values():
            cls._e164_list(phones)
        return value


class GeneralConfig(_Section):
    timezone: str = Field(default="Asia/Shanghai", description="IANA zone for time-of-day rules")
    data_dir: Path | None = Field(
        default=None, description="where embedded services keep data; unset: the user data dir"
    )
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_format: str = Field(
        default="text", pattern=r"^(text|json)$", description="json: one object per line"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Asia/Shanghai") from None
        return value


class Config(_Section):
    general: GeneralConfig = GeneralConfig()
    database: DatabaseConfig = DatabaseConfig()
    mqtt: MqttConfig = MqttConfig()
    api: ApiConfig = ApiConfig()
    notify: NotifyConfig = NotifyConfig()
    ingest: IngestConfig = IngestConfig()
    engine: EngineConfig = EngineConfig()
    cases: CasesConfig = CasesConfig()
    rules: RulesConfig = RulesConfig()
    alerting: AlertingConfig = AlertingConfig()
    watchdog: WatchdogConfig = WatchdogConfig()


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Section/key overrides from the environment, and where each came from."""
    tree: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    unknown = []
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        if name in CONTRACT_VARIABLES:
            section, key = CONTRACT_VARIABLES[name]
        elif "__" in name:
            section, _, key = name.removeprefix(ENV_PREFIX).lower().partition("__")
        else:
            unknown.append(name)
            continue
        tree.setdefault(section, {})[key] = value
        sources[f"{section}.{key}"] = name
    if unknown:
        raise ConfigError(
            "unknown environment variable(s) "
            + ", ".join(sorted(unknown))
            + f": expected one of {', '.join(CONTRACT_VARIABLES)} or FIREWATCH_<SECTION>__<KEY>"
        )
    return tree, sources


def _merge(
    file_tree: Mapping[str, Any], env_tree: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    merged: dict[str, Any] = {
        k: (dict(v) if isinstance(v, Mapping) else v) for k, v in file_tree.items()
    }
    for section, keys in env_tree.items():
        target = merged.setdefault(section, {})
        if isinstance(target, dict):
            target.update(keys)
    return merged


def _describe(error: ValidationError, sources: Mapping[str, str], origin: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"])
        where = sources.get(key, origin)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {key} (from {where}): {message}")
    return "invalid configuration:\n" + "\n".join(lines)


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file (the default one only if present) and apply the environment."""
    environ = os.environ if environ is None else environ
    file_tree: dict[str, Any] = {}
    origin = "defaults"
    chosen = path if path is not None else (DEFAULT_FILE if DEFAULT_FILE.exists() else None)
    if chosen is not None:
        try:
            file_tree = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {chosen} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {chosen} is not valid TOML: {exc}") from None
        origin = str(chosen)
    env_tree, sources = _env_overrides(environ)
    try:
        return Config.model_validate(_merge(file_tree, env_tree))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, sources, origin)) from None


def masked(config: Config) -> dict[str, Any]:
    """The effective configuration as plain data, with passwords and tokens masked."""
    tree = config.model_dump(mode="json")
    for section in ("database", "mqtt"):
        secret = getattr(config, section).url
        tree[section]["url"] = mask_url(secret.get_secret_value()) if secret else None
    tree["api"]["admin_token"] = "***" if config.api.admin_token else None
    tree["alerting"]["ack_secret"] = "***" if config.alerting.ack_secret else None
    return tree
