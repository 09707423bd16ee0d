"""Process configuration, read from environment variables (and an optional `.env`).

One `Settings` class serves the API, the worker and the dev stack so that a variable
means the same thing everywhere; docker-compose.yml sets the same names.
Nothing here connects to anything: building a `Settings` only reads the environment.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import (
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.principals import ApiPrincipal, key_entries

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # A validation error must not print the values it refuses: they include secrets.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "support-cases"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    # mTLS to the Temporal frontend: a CA file (or none: the system's), and a client
    # certificate with its key. Any of the first two turns TLS on.
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str = ""
    # "production" refuses settings that are only fine on a developer's machine.
    app_env: Literal["development", "production"] = "development"

    # Empty means "start an embedded PostgreSQL under DATA_DIR" (dev stack and tests only).
    database_url: str = ""
    database_pool_max: int = 10
    # How long a request waits for a pooled connection before answering 503.
    database_timeout_seconds: float = 5.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Web page of the local SMTP catcher that `make run` starts (dev stack only).
    mail_ui_port: int = 8025
    # Base of links sent to customers (authorization page); the API's own URL by default.
    public_base_url: str = ""
    # JSON object {"sha256:<hex digest of a key>": {"name": "ana", "display_name":
    # "Ana García", "roles": ["agent"]}}: digests only, a key in clear stops the process.
    # Read at start-up (`api.principals.configured_principals` adds the file's);
    # keys in PostgreSQL (`python -m api.keys`) change while it runs.
    api_keys: dict[str, ApiPrincipal] = Field(default_factory=dict)
    # The same JSON in a file; a file that is set must exist.
    api_keys_file: Path | None = None

    data_dir: Path = PROJECT_ROOT / "data"
    sla_policy_file: Path | None = None
    sla_holidays_file: Path | None = None

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "amger:pro soporte <soporte@amger.pro>"
    agents_email: str = "agentes@amger.pro"
    supervisors_email: str = "supervisores@amger.pro"

    remote_authorization_ttl_hours: float = 24.0
    remote_session_ttl_hours: float = 8.0
    reopen_window_days: float = 5.0
    # How long the API waits for a worker to take an action before answering.
    update_timeout_seconds: float = 15.0
    # How long an intake's Idempotency-Key answers retries with the case it opened.
    idempotency_key_ttl_hours: float = 24.0
    # How long a message may keep failing (mail server down) before it is recorded as
    # undeliverable on its case and the agents are told.
    message_budget_hours: float = 24.0
    # Shared by the API and the worker: signs customers' consent decisions (the
    # workflow refuses unsigned ones) and derives customers' one-time links.
    consent_hmac_secret: SecretStr = SecretStr("")
    # Logs: one JSON object a line for collectors (the default), or readable text
    # (`make run` sets text).
    log_format: Literal["text", "json"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The worker's Prometheus endpoint (Temporal SDK and domain metrics) at
    # http://WORKER_METRICS_HOST:WORKER_METRICS_PORT/metrics; 0 turns it off. Loopback
    # by default: the endpoint has no authentication, so a deployment opens it itself.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        # The API's rules (api.principals): digests only, an error never quotes a key.
        return key_entries(value, "API_KEYS")

    @model_validator(mode="after")
    def _safe_for_production(self) -> Self:
        if self.app_env == "production" and not self.public_base_url.startswith("https://"):
            raise ValueError(
                "APP_ENV=production needs PUBLIC_BASE_URL to be https://: customers' "
                "one-time links must not travel in clear"
            )
        if (self.temporal_tls_cert_file is None) != (self.temporal_tls_key_file is None):
            raise ValueError("set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE together")
        return self

    def temporal_case_url(self, case_id: str) -> str:
        """The case's page in the Temporal UI: its history, for ops and agents."""
        base = self.temporal_ui_url.rstrip("/")
        return f"{base}/namespaces/{self.temporal_namespace}/workflows/{case_id}"

    @property
    def api_base_url(self) -> str:
        return self.public_base_url.rstrip("/") or f"http://{self.api_host}:{self.api_port}"

    @property
    def remote_authorization_ttl(self) -> timedelta:
        return timedelta(hours=self.remote_authorization_ttl_hours)

    @property
    def remote_session_ttl(self) -> timedelta:
        return timedelta(hours=self.remote_session_ttl_hours)

    @property
    def update_timeout(self) -> timedelta:
        return timedelta(seconds=self.update_timeout_seconds)

    def require_secret(self) -> str:
        secret = self.consent_hmac_secret.get_secret_value()
        if len(secret) < 32:
            raise SystemExit(
                "CONSENT_HMAC_SECRET must be set to at least 32 random characters, the same "
                "for the API and the worker (`make run` makes one in data/)"
            )
        return secret

    @property
    def idempotency_key_ttl(self) -> timedelta:
        return timedelta(hours=self.idempotency_key_ttl_hours)

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(days=self.reopen_window_days)

    # How a customer reaches a person: every page and mail that says "contact us" gives
    # these, so nobody is told to get in touch without being told how.
    support_phone: str = "900 264 377"
    support_email: str = "soporte@amger.pro"
    support_hours: str = "de lunes a viernes de 9:00 a 18:00, hora de Madrid, salvo festivos"
