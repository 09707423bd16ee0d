"""Assembling a worker: shared by `python -m worker`, the dev stack and the tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.messaging import Messaging
from activities.projection import Projector
from activities.report_mail import ReportMailer
from core.db import Pool
from core.interceptors import RequestIdWorker
from core.mail import Mailer
from core.settings import Settings
from workflows import consent
from workflows.case import CaseWorkflow
from workflows.report_mail import SlaReportMailWorkflow
from workflows.sla import SlaPolicy


def case_activities(pool: Pool, client: Client, settings: Settings, tz: str) -> list[Any]:
    """The real activities, with the pool, client and settings they need."""
    consent.configure(settings.consent_hmac_secret.get_secret_value())
    projector = Projector(pool, client)
    messaging = Messaging(pool, Mailer(settings), settings, tz)
    return [projector.project, projector.record_case, *messaging.activities()]


def report_activities(pool: Pool, settings: Settings, policy: SlaPolicy) -> list[Any]:
    """The daily SLA report's mail (`workflows.report_mail`)."""
    return [ReportMailer(pool, Mailer(settings), settings, policy).mail_sla_report]


# email_validator is imported lazily, on the first address validation; passing it
# through keeps the sandbox from re-importing it (and warning) inside a running workflow.
# `workflows.consent` holds the key the worker configured at start-up: a sandboxed copy
# would have none.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "email_validator", "idna", "workflows.consent"
    )
)


@contextmanager
def bytecode_cache() -> Iterator[None]:
    """The sandbox executes the workflow modules again for every workflow run (a new
    case, a case back in a worker's cache). Under PYTHONDONTWRITEBYTECODE=1 Python then
    compiles `workflows/case.py` from source each time (5 to 25 ms of worker CPU on 2
    cores); with a bytecode cache it only loads it (0.05 ms). The cache lives outside
    the source tree, in a folder of this user's only (kept for the next start, so a
    worker killed with SIGKILL leaves nothing new behind), else a fresh private one."""
    folder, fresh = _private_folder(Path(tempfile.gettempdir()) / f"amger-bytecode-{os.getuid()}")
    before = sys.pycache_prefix, sys.dont_write_bytecode
    sys.pycache_prefix, sys.dont_write_bytecode = str(folder), False
    try:
        yield
    finally:
        sys.pycache_prefix, sys.dont_write_bytecode = before
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)


def _private_folder(wanted: Path) -> tuple[Path, bool]:
    """`wanted` when it is (or can be made) a real folder only this user may write;
    otherwise a new temporary one, to delete afterwards (True)."""
    with contextlib.suppress(FileExistsError):
        wanted.mkdir(mode=0o700)
    st = wanted.lstat()
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077:
        return wanted, False
    return Path(tempfile.mkdtemp(prefix="amger-bytecode-")), True


CACHED_CASES = 4000


def build_worker(
    client: Client, task_queue: str, activities: Sequence[Any], **options: Any
) -> Worker:
    # 20 pollers: the SDK default of 5 capped new cases at about 60/s on 2 cores.
    options.setdefault("workflow_task_poller_behavior", PollerBehaviorSimpleMaximum(20))
    options.setdefault("workflow_runner", WORKFLOW_RUNNER)
    # Cases kept in memory between their tasks. The SDK's 1,000 thrashes once more cases
    # than that are open: in a deadline burst every case's task then replays its whole
    # history first (1,000 breaches at one instant: the last fired 58 s late with 1,000,
    # 25 s with 4,000; bench/burst.py). Each costs about 0.3 MiB of worker memory
    # (bench/scale.py: 435 MiB with 1,000 open cases, 754 MiB with 2,000), so the cache,
    # not the number of open cases, bounds the worker at about 1.5 GiB.
    options.setdefault("max_cached_workflows", CACHED_CASES)
    # Request ids from the API's headers to the activities' log lines.
    options.setdefault("interceptors", [RequestIdWorker()])
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow, SlaReportMailWorkflow],
        activities=list(activities),
        **options,
    )
