"""Gateway settings, read from ``HUB_*`` environment variables (pydantic-settings).

Production defaults are the safe ones: no GraphiQL, no introspection, no field suggestions.
``alternance-hub demo`` turns the developer conveniences on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore", frozen=True)

    partners_file: Path | None = Field(None, description="partners TOML (HUB_PARTNERS_FILE)")
    cache_enabled: bool = Field(True, description="off: every query goes to the partners")
    coalesce_partner_calls: bool = Field(
        True,
        description="identical PUBLIC/REFERENCE partner calls in flight at once are made once",
    )
    cache_url: str = Field("memory://", description="memory:// or redis://host:port/db")
    cache_namespace: str = Field(
        "hub", pattern=r"^[a-z][a-z0-9_]*$", description="key prefix: one per deployment"
    )
    cache_local_max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="bound of the in-process tier in encoded bytes; 0: off"
    )
    response_cache: bool = Field(
        True, description="whole answers of PUBLIC/REFERENCE documents (off with cache_enabled)"
    )
    cache_shared_timeout_s: Annotated[float, Field(gt=0, le=5)] = 0.05
    development: bool = Field(False, description="GraphiQL, introspection, suggestions on")
    request_deadline_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    max_page_size: Annotated[int, Field(ge=1, le=1000)] = 100
    max_body_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    log_level: str = "INFO"
    metrics_port: Annotated[int | None, Field(ge=0, le=65535)] = Field(
        None,
        description="serve /metrics on this port only (a second server, not the public port); "
        "each worker of `serve --workers N` takes the first free port from it; 0: any free port",
    )
    metrics_host: str = Field(
        "127.0.0.1", description="address of the metrics port (0.0.0.0 in a container)"
    )
