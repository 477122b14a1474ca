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
    max_query_cost: int = Field(
        2_500,
        ge=1,
        description="static cost bound of one document (@cost/@listSize); past it "
        "QUERY_TOO_COMPLEX at validation, no partner called",
    )
    max_partner_calls_per_request: int = Field(
        50, ge=1, description="partner calls one request may make; past it PARTNER_CALL_BUDGET"
    )
    max_entity_representations: int = Field(
        100, ge=1, description="representations one _entities field may carry (BAD_USER_INPUT)"
    )
    max_response_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        description="serialised answer bound; past it the answer is a RESPONSE_TOO_LARGE error",
    )
    log_level: str = "INFO"
