"""Connecting to Temporal the same way from the API, the worker, the dev stack and tests."""

from __future__ import annotations

from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from core.interceptors import RequestIdClient
from core.settings import Settings
from workflows.metrics import HISTOGRAM_BUCKETS
from workflows.search_attributes import DEFINITIONS

_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


def tls_config(settings: Settings) -> TLSConfig | bool:
    """mTLS to the Temporal frontend when a CA or a client certificate is configured."""
    s = settings
    if s.temporal_tls_ca_file is None and s.temporal_tls_cert_file is None:
        return False
    return TLSConfig(
        server_root_ca_cert=_read(s.temporal_tls_ca_file),
        client_cert=_read(s.temporal_tls_cert_file),
        client_private_key=_read(s.temporal_tls_key_file),
        domain=s.temporal_tls_server_name or None,
    )


def _read(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client whose starts and updates carry the current request id (a header)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=tls_config(settings),
        interceptors=[RequestIdClient()],
        runtime=runtime,
    )


def metrics_runtime(settings: Settings) -> Runtime | None:
    """The worker's Runtime with the SDK's own Prometheus endpoint, serving the SDK's
    metrics and those the workflows record (`workflows.metrics`); None when
    WORKER_METRICS_PORT is 0. One per process: it binds the port."""
    if not settings.worker_metrics_port:
        return None
    address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    prometheus = PrometheusConfig(
        bind_address=address, histogram_bucket_overrides=HISTOGRAM_BUCKETS
    )
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the attributes the workflow upserts, skipping those already there."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as exc:
        # The time-skipping test server cannot list them but accepts additions.
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    missing = {name: _TYPES[kind] for name, kind in DEFINITIONS.items() if name not in existing}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
