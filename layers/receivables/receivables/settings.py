"""Configuration read once from the environment, at the handler edge, into typed models."""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class TableSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    table_name: str


class OrdersSettings(TableSettings):
    idempotency_table_name: str


class EventBusSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    event_bus_name: str


def load(model: type[SettingsT]) -> SettingsT:
    """Validates the environment against `model`; a missing variable names itself in the error.

    Not cached: it costs microseconds, and the local runtime runs many functions in one process.
    """
    env = {key.lower(): value for key, value in os.environ.items()}
    try:
        return model.model_validate(env)
    except ValidationError as error:
        missing = ", ".join(str(e["loc"][0]).upper() for e in error.errors())
        raise RuntimeError(f"configuration incomplete: {missing}") from error


class SellerSettings(TableSettings):
    seller_profile_parameter: str


class RenderSettings(SellerSettings):
    documents_bucket: str


class SendSettings(RenderSettings):
    sender_address: str
    public_base_url: str


class InvoicesApiSettings(TableSettings):
    documents_bucket: str
    public_base_url: str


class HostedPageSettings(InvoicesApiSettings):
    seller_profile_parameter: str
