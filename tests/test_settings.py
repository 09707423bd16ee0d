"""Process settings that must refuse to start rather than run unsafely."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from core.settings import Settings
from core.temporal import tls_config


def test_production_refuses_a_public_url_in_clear() -> None:
    with pytest.raises(ValidationError, match="https"):
        Settings(app_env="production", public_base_url="http://soporte.example.com")
    ok = Settings(app_env="production", public_base_url="https://soporte.example.com")
    assert ok.api_base_url == "https://soporte.example.com"


def test_development_allows_the_local_url() -> None:
    assert Settings(app_env="development").api_base_url.startswith("http://127.0.0.1")


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_bytes(b"cert")
    with pytest.raises(ValidationError, match="together"):
        Settings(temporal_tls_cert_file=cert)


def test_mtls_to_temporal_reads_the_configured_files(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_bytes(name.encode())
    settings = Settings(
        temporal_tls_ca_file=tmp_path / "ca.pem",
        temporal_tls_cert_file=tmp_path / "client.pem",
        temporal_tls_key_file=tmp_path / "client.key",
        temporal_tls_server_name="temporal.internal",
    )
    tls = tls_config(settings)
    assert isinstance(tls, TLSConfig)
    assert (tls.server_root_ca_cert, tls.client_cert, tls.client_private_key) == (
        b"ca.pem",
        b"client.pem",
        b"client.key",
    )
    assert tls.domain == "temporal.internal"


def test_no_tls_settings_means_a_plain_connection() -> None:
    assert tls_config(Settings()) is False
