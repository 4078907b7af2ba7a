"""Settings: the one typed, frozen object built at start and passed down.

This module is the sole reader of the environment (``DOSSIER_`` prefix, plus a ``.env``
file). It imports nothing of ours, so every layer may depend on it.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Sources = Literal["live", "replay"]
Role = Literal["all", "api", "worker"]
ProviderName = Literal["builtin", "openai", "anthropic"]
LogFormat = Literal["console", "json"]


def default_data_dir() -> Path:
    """The user's data dir (XDG), where SQLite state, the disk cache and logs live."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dossier"


def is_loopback_host(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every knob of dossier. Tests build ``Settings(...)`` directly."""

    model_config = SettingsConfigDict(
        env_prefix="DOSSIER_", env_file=".env", extra="ignore", frozen=True
    )

    # -- serving
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir)
    api_token: SecretStr | None = Field(
        default=None,
        description="Bearer token(s); comma-separated for several principals. "
        "Required when not bound to loopback.",
    )
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="Extra Origins allowed on the WebSocket besides the server's own."
    )
    # Without a token, a page on any site could reach this server through DNS rebinding
    # (its own name resolving to 127.0.0.1): only Host names listed here, the loopback
    # names and ``host`` are served then. With a token, the token is the fence.
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Extra Host names served without a token (comma-separated), besides "
        "127.0.0.1, localhost, ::1 and DOSSIER_HOST; any port.",
    )
    # Proxy headers (X-Forwarded-For/-Proto) say who the client is only when a proxy we
    # run wrote them; trusted from anyone, rotating them would defeat per-client limits.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Addresses or networks of reverse proxies whose X-Forwarded-For/-Proto "
        "are believed (comma-separated, e.g. '127.0.0.1,10.0.0.0/8'); none by default.",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    session_rate_per_min: int = Field(default=30, ge=1, description="Session creations per client")
    question_rate_per_min: int = Field(default=120, ge=1)
    max_chat_turns: int = Field(
        default=1000,
        ge=1,
        description="Questions one principal may ask in one session (then 409 "
        "too_many_turns): every turn stays on the log and in the snapshot, so an endless "
        "chat would grow both without bound.",
    )

    # -- sources
    sources: Sources = "live"
    replay_latency_ms: int = Field(default=0, ge=0, le=60_000)
    replay_dir: str | None = Field(
        default=None,
        description="Extra recording folders (':'-separated, the packaged layout: "
        "<source>/routes.json), read before the packaged ones.",
    )
    contact_email: str | None = None
    allow_private_fetch: bool = Field(
        default=False, description="Tests only: let the SSRF guard pass loopback/private hosts."
    )
    http_timeout_s: float = Field(default=10.0, gt=0)
    http_retries: int = Field(default=3, ge=0, le=10)
    http_backoff_s: float = Field(default=0.5, gt=0, description="First retry delay (doubles)")
    http_max_response_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    collector_timeout_s: float = Field(default=60.0, gt=0)
    source_concurrency: int = Field(
        default=8, ge=1, le=256, description="Source requests in flight at once per process"
    )
    stop_grace_s: float = Field(
        default=2.0,
        ge=0,
        le=30,
        description="After 'stop & summarize', how long a collector in flight may finish "
        "its current request (what it parsed is kept).",
    )

    # -- the seller
    vendor_name: str | None = None
    vendor_domain: str | None = None
    vendor_description: str | None = None
    vendor_sells_to: str | None = Field(
        default=None, description="Roles or teams we sell to, comma-separated: 'risk, fraud'."
    )

    # -- analysis
    provider: ProviderName = "builtin"
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    anthropic_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = "claude-3-5-haiku-latest"
    provider_timeout_s: float = Field(default=60.0, gt=0)
    stream_delay_ms: float = Field(
        default=0.0, ge=0, description="Pause between streamed builtin tokens (demo pacing)."
    )

    # -- scale-out
    database_url: str | None = None
    redis_url: str | None = None
    rate_limit_prefix: str = Field(
        default="dossier:rate:",
        min_length=1,
        description="Start of the Redis keys of the shared rate limits (with redis_url); "
        "deployments sharing one Redis need one each.",
    )
    role: Role = Field(
        default="all",
        description="all: serve and run workflows; api: serve, hand workflows to workers "
        "(needs database_url); worker: run workflows only (`dossier worker`).",
    )
    executor_id: str = Field(
        default="local", description="Unique, stable per process; recovery is per executor."
    )
    app_version: str = "dossier-2"
    # Failover time is about takeover_after_s + one beat + a queue poll (~7 s by default).
    # Shorter risks a busy worker whose loop stalled that long losing live work to a peer
    # (the log stays right, its dedup keys hold, but the step runs twice).
    takeover_after_s: float = Field(
        default=5.0,
        gt=0,
        description="A silent executor's workflows move to another worker after this long.",
    )
    executor_beat_s: float = Field(
        default=1.0,
        gt=0,
        description="How often each process records that it is alive (and looks for dead "
        "ones); several beats must fit in takeover_after_s.",
    )
    worker_concurrency: int = Field(default=16, ge=1, description="Sessions run at once per worker")
    # Measured (bench/step_overhead.py): off saves 0.5-0.8 ms of a 3.7-4.9 ms durable step
    # on PostgreSQL. The price: a PostgreSQL *server* crash (not a process kill) can lose
    # the last ~0.6 s of step checkpoints, and those steps run again (their events dedup).
    step_synchronous_commit: bool = Field(
        default=True,
        description="PostgreSQL synchronous_commit for the step checkpoints of processes that "
        "run workflows (role all/worker; an api replica's hand-offs always wait for the "
        "disk). false: faster steps; a database server crash re-runs the last ones.",
    )
    worker_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Where a worker answers /healthz, /readyz and /metrics (0: no HTTP).",
    )

    # -- streams
    sse_heartbeat_s: float = Field(default=15.0, gt=0)
    progress_beat_s: float = Field(default=4.0, gt=0, le=5.0)
    live_window_events: int = Field(default=10_000, ge=16)
    sse_stall_timeout_s: float = Field(default=60.0, gt=0)
    sse_send_budget_bytes: int = Field(
        # Measured with 2,000 silent readers (bench/silent_readers.py): each KiB of budget
        # costs about two per connection in all; 8 KiB keeps single-stream throughput.
        default=8 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Bytes a stream may have written but not yet sent to its client; past "
        "it the stream stops producing and resumes from the log when the client reads "
        "(bounds memory per connection, whatever the client does).",
    )
    sse_max_streams_per_principal: int = Field(
        default=64,
        ge=1,
        description="Open SSE streams per token (without tokens: per server). A tab holds one.",
    )
    sse_max_streams_per_client: int = Field(
        default=256,
        ge=1,
        description="Open SSE streams per client address (behind a proxy: the proxy's, "
        "unless its forwarded address is trusted).",
    )
    ws_max_frame_bytes: int = Field(default=16 * 1024, ge=256)
    ws_max_inflight: int = Field(default=8, ge=1)

    # -- storage
    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="Delete finished sessions (their events, chat and owners) whose last "
        "event is older than this many days; unset keeps everything. Checked hourly.",
    )

    # -- misc
    gc_tuning: bool = Field(
        default=True,
        description="Freeze start-up objects and collect garbage less often: with thousands "
        "of open streams a full collection stalls delivery ~100 ms (measured in bench/).",
    )
    bench: bool = False
    log_level: str = "INFO"
    log_format: LogFormat = "console"

    @field_validator("allowed_origins", "allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """A comma-separated list (as written in an environment), or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            items = json.loads(text) if text.startswith("[") else text.split(",")
            return tuple(str(o).strip().rstrip("/") for o in items if str(o).strip())
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(h.lower().removesuffix(".") for h in value)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"DOSSIER_TRUSTED_PROXIES: {item!r} is not an IP address or network"
                ) from exc
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.provider == "openai" and self.openai_model.strip() == "":
            raise ValueError("DOSSIER_OPENAI_MODEL must not be empty")
        for folder in self.replay_folders:
            if not folder.is_dir():
                raise ValueError(f"DOSSIER_REPLAY_DIR: {folder} is not a folder")
        if self.role != "all" and not self.database_url:
            raise ValueError(
                f"DOSSIER_ROLE={self.role} needs DOSSIER_DATABASE_URL (PostgreSQL) shared "
                "by every process"
            )
        if self.takeover_after_s < 2 * self.executor_beat_s:
            raise ValueError(
                "DOSSIER_TAKEOVER_AFTER_S must be at least two DOSSIER_EXECUTOR_BEAT_S: one "
                "late beat must not hand a live worker's sessions to another"
            )
        return self

    @property
    def loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def api_tokens(self) -> tuple[str, ...]:
        """The configured bearer tokens (empty: no auth on loopback)."""
        if self.api_token is None:
            return ()
        raw = self.api_token.get_secret_value()
        return tuple(t.strip() for t in raw.split(",") if t.strip())

    @property
    def replay_folders(self) -> tuple[Path, ...]:
        return tuple(Path(p).expanduser() for p in (self.replay_dir or "").split(":") if p)

    @property
    def state_db_path(self) -> Path:
        return self.data_dir / "dossier.sqlite"

    @property
    def dbos_db_path(self) -> Path:
        return self.data_dir / "dbos.sqlite"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def user_agent(self) -> str:
        contact = self.contact_email or "dossier@localhost"
        return f"dossier/0.1 (account research; {contact})"
