"""/cases: intake by the contact center, actions by agents, reads for everyone."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, status
from fastapi.responses import JSONResponse

from api.auth import as_seen_by, may_read, readable_cases
from api.deps import (
    Agent,
    ContactCenter,
    PolicyDep,
    Reader,
    ServicesDep,
    SettingsDep,
    StoreDep,
    Supervisor,
    TeamReader,
    TemporalDep,
)
from api.errors import CaseNotFound, Forbidden
from api.intake import case_id_for, case_input
from api.principals import ApiPrincipal
from api.responses import ACTION, CASE_LINKS, INTAKE, READ, READ_CASE, errors
from api.schemas import (
    Body,
    CaseCreate,
    CaseOut,
    CaseSummaryOut,
    CloseIn,
    ContactIn,
    EventOut,
    IntakeAccepted,
    NotificationOut,
    PlanIn,
    ReasonIn,
    RemoteRequestIn,
    ResolveIn,
    SessionEndIn,
    SeverityIn,
)
from api.workflow_gateway import (
    CaseUpdate,
    case_out,
    current_case,
    live_state,
    open_case,
    reprioritize,
    send_update,
)
from core.store import CaseFilter, CaseSummary, StoredEvent, StoredNotification
from workflows.case import CaseWorkflow
from workflows.domain import Plan, Severity, SlaState, Stage
from workflows.models import (
    ActionInput,
    Cancel,
    ChangePlan,
    ChangeSeverity,
    Close,
    EndRemoteSession,
    LogContact,
    Reopen,
    RequestRemoteAccess,
    Resolve,
    StartRemoteSession,
)

router = APIRouter(prefix="/cases", tags=["cases"])
# What an agent's action answers besides the case.
_ACTION = errors(*ACTION)

CaseId = Annotated[str, Path(pattern=r"^CASE-\d{6,}$", examples=["CASE-000123"])]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseOut,
    responses=errors(*INTAKE)
    | {
        201: {"description": "The case, registered", "links": CASE_LINKS},
        202: {
            "model": IntakeAccepted,
            "description": "Started, not yet registered: no worker took it within "
            "UPDATE_TIMEOUT_SECONDS; it is registered as soon as one does",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
    },
)
async def create_case(
    body: CaseCreate,
    principal: ContactCenter,
    store: StoreDep,
    temporal: TemporalDep,
    policy: PolicyDep,
    settings: SettingsDep,
    services: ServicesDep,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> CaseOut | JSONResponse:
    """Opens the case as a durable workflow, for the contact center (or a supervisor).

    201 once the workflow has registered it. When no worker takes it within
    UPDATE_TIMEOUT_SECONDS the case exists all the same: 202 with its `Location`, and it is
    registered as soon as a worker is back, so do not send it again. An `Idempotency-Key`
    makes a lost answer safe to retry: the same key with the same body answers the case it
    opened, whatever became of it since; with another body it is 409. A key is the sending
    API key's own and is remembered for IDEMPOTENCY_KEY_TTL_HOURS.
    """
    case_id, seen = await case_id_for(store, settings, principal, idempotency_key, body)
    if seen and (earlier := await current_case(services, case_id)) is not None:
        # A retry: the case it opened, whatever became of it since, as the caller may see it.
        return as_seen_by(principal, case_out(earlier, settings))
    inp = case_input(body, case_id, principal, policy, settings)
    state = await open_case(temporal, settings.temporal_task_queue, inp, settings.update_timeout)
    if state is None:
        return JSONResponse(
            {
                "case_id": case_id,
                "stage": "registro",
                "detail": "case accepted; it is registered as soon as a worker is available",
            },
            status.HTTP_202_ACCEPTED,
            headers={"Location": f"/cases/{case_id}"},
        )
    return as_seen_by(principal, case_out(state, settings))


@router.get("", response_model=list[CaseSummaryOut], responses=errors(*READ))
async def list_cases(
    who: Reader,
    store: StoreDep,
    stage: Stage | None = None,
    sla_state: SlaState | None = None,
    plan: Plan | None = None,
    severity: Severity | None = None,
    customer_id: Annotated[str | None, Query(max_length=100)] = None,
    queued: Annotated[bool | None, Query(description="in the agents' queue")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[str | None, Query(description="last case_id of the previous page")] = None,
) -> list[CaseSummary]:
    """Cases, most urgent first (earliest response deadline; none last); a contact
    center's list holds only the cases it opened."""

    def value(v: StrEnum | None) -> str | None:
        return None if v is None else v.value

    return await readable_cases(
        store,
        CaseFilter(
            stage=value(stage),
            sla_state=value(sla_state),
            plan=value(plan),
            severity=value(severity),
            customer_id=customer_id,
            queued=queued,
            limit=limit,
            after=after,
        ),
        who,
    )


@router.get("/{case_id}", response_model=CaseOut, responses=errors(*READ_CASE))
async def get_case(
    case_id: CaseId, who: Reader, store: StoreDep, settings: SettingsDep, services: ServicesDep
) -> CaseOut:
    """The case as its workflow holds it now; from PostgreSQL's read model (which may lag,
    `source` says so) when Temporal cannot answer. A contact center gets only a case it
    opened (another is 404, as if unknown), without customers' IP addresses and browsers."""
    state = await live_state(services, case_id)
    if state is not None:
        case = case_out(state, settings, source="workflow")
    else:
        stored = await store.get_case(case_id=case_id)
        if stored is None:
            raise CaseNotFound(case_id)
        case = case_out(stored, settings, source="postgresql")
    if not may_read(who, case.opened_by):
        raise CaseNotFound(case_id)
    return as_seen_by(who, case)


@router.get("/{case_id}/events", response_model=list[EventOut], responses=errors(*READ_CASE))
async def case_events(
    case_id: CaseId, _: TeamReader, store: StoreDep, services: ServicesDep
) -> list[StoredEvent]:
    """The case's event log, from PostgreSQL: a case just opened may have none yet."""
    events = await store.events(case_id=case_id)
    if not events and await current_case(services, case_id) is None:
        raise CaseNotFound(case_id)
    return events


@router.get(
    "/{case_id}/notifications",
    response_model=list[NotificationOut],
    responses=errors(*READ_CASE),
)
async def case_notifications(
    case_id: CaseId, _: TeamReader, store: StoreDep, services: ServicesDep
) -> list[StoredNotification]:
    """What the team was told about the case, oldest first, from PostgreSQL.

    Queueing, the customer's answers on remote access, reopenings, SLA warnings and breaches,
    mails that could not be delivered. Like the event log, not for a contact center (403).
    """
    if await current_case(services, case_id) is None:
        raise CaseNotFound(case_id)
    return await store.notifications(case_id=case_id)


class CaseActions:
    """Turns an agent's HTTP body into the workflow's update input and sends it."""

    def __init__(self, temporal: TemporalDep, store: StoreDep, settings: SettingsDep) -> None:
        self.temporal, self.store, self.settings = temporal, store, settings

    async def send(
        self,
        case_id: str,
        update: CaseUpdate,
        command: type[ActionInput],
        body: Body,
        principal: ApiPrincipal,
    ) -> CaseOut:
        """Turn an action's body into its workflow command and send it as the caller's update.

        Who acts comes from the key, never from the body (`agent` may only repeat it, else
        403); commands the customer reads about also carry the key's display name. The
        body's `request_id` goes into the update's id, so a retry is answered rather than
        applied twice: by Temporal within a run, by the workflow across continue-as-new.
        `api.workflow_gateway` retries while the case continues as new and turns refusals
        into 409 or 403, and a worker that does not answer in time into 503.
        """
        # The actor is who authenticated; a body that names someone else is refused.
        if body.agent is not None and body.agent != principal.name:
            raise Forbidden(
                f"agent {body.agent!r} is not the authenticated user {principal.name!r}"
            )
        who: dict[str, str] = {"actor": principal.name}
        if "agent_name" in command.model_fields:  # customers read the person's name
            who["agent_name"] = principal.display_name
        cmd = command.model_validate(body.model_dump(exclude={"agent"}) | who)
        state = await send_update(self.temporal, case_id, update, cmd, self.settings.update_timeout)
        return as_seen_by(principal, case_out(state, self.settings))


Actions = Annotated[CaseActions, Depends()]


@router.post("/{case_id}/contacts", response_model=CaseOut, responses=_ACTION)
async def log_contact(case_id: CaseId, body: ContactIn, who: Agent, act: Actions) -> CaseOut:
    """An attempt to reach the customer by phone or email; agents and supervisors.

    The first attempt takes the case out of registro. The first one that reaches the
    customer (a call answered, an email sent) is the first response the SLA measures. A call
    that reaches them moves a case in contacto or acceso_remoto to resolucion_telefonica,
    unless a remote session is running.
    """
    return await act.send(case_id, CaseWorkflow.log_contact, LogContact, body, who)


@router.post("/{case_id}/remote-access/request", response_model=CaseOut, responses=_ACTION)
async def request_remote_access(
    case_id: CaseId, body: RemoteRequestIn, who: Agent, act: Actions
) -> CaseOut:
    """Asks the customer to allow remote access; they answer from the link we mail them.

    No API key can answer for the customer: only their link records consent. The case waits
    in autorizacion_remota until they decide or the request expires after
    REMOTE_AUTHORIZATION_TTL_HOURS; a newer request supersedes a pending or granted one.
    """
    return await act.send(
        case_id, CaseWorkflow.request_remote_access, RequestRemoteAccess, body, who
    )


@router.post("/{case_id}/remote-session/start", response_model=CaseOut, responses=_ACTION)
async def start_remote_session(
    case_id: CaseId, who: Agent, act: Actions, body: CloseIn | None = None
) -> CaseOut:
    """Connect to the customer's machine under the access they granted; the body is optional.

    409 unless the case is in acceso_remoto with an authorization that has neither expired
    nor been revoked. The customer is mailed a link to the session, from which they may
    revoke access at any moment.
    """
    return await act.send(
        case_id, CaseWorkflow.start_remote_session, StartRemoteSession, body or CloseIn(), who
    )


@router.post("/{case_id}/remote-session/end", response_model=CaseOut, responses=_ACTION)
async def end_remote_session(
    case_id: CaseId, body: SessionEndIn, who: Agent, act: Actions
) -> CaseOut:
    """How the session went; the customer's authorization outlasts it.

    Until `access_until` another session may start without asking the customer again, and
    an ended session lets the case be resolved `remote`.
    """
    return await act.send(case_id, CaseWorkflow.end_remote_session, EndRemoteSession, body, who)


@router.post("/{case_id}/resolve", response_model=CaseOut, responses=_ACTION)
async def resolve(case_id: CaseId, body: ResolveIn, who: Agent, act: Actions) -> CaseOut:
    """The customer is mailed the solution, and the case waits in resuelto for the reopen window.

    Until REOPEN_WINDOW_DAYS have passed it may be reopened or closed; after that it closes
    itself. Remote access still open is withdrawn, so an earlier link can no longer grant it.
    """
    return await act.send(case_id, CaseWorkflow.resolve, Resolve, body, who)


@router.post("/{case_id}/close", response_model=CaseOut, responses=_ACTION)
async def close(case_id: CaseId, who: Agent, act: Actions, body: CloseIn | None = None) -> CaseOut:
    """Ends a resolved case now rather than when its reopen window runs out; no action after.

    The body is optional. Closing is final: a problem that returns is a new case.
    """
    return await act.send(case_id, CaseWorkflow.close, Close, body or CloseIn(), who)


@router.post("/{case_id}/reopen", response_model=CaseOut, responses=_ACTION)
async def reopen(case_id: CaseId, body: ReasonIn, who: Agent, act: Actions) -> CaseOut:
    """Back to contacto, with the agents notified, when the customer's problem returns.

    Only within the reopen window (409 after it: the case has closed itself). The SLA keeps
    what it measured: a reopened case is not a new case.
    """
    return await act.send(case_id, CaseWorkflow.reopen, Reopen, body, who)


@router.post("/{case_id}/cancel", response_model=CaseOut, responses=_ACTION)
async def cancel(case_id: CaseId, body: ReasonIn, who: Agent, act: Actions) -> CaseOut:
    """Ends the case unresolved; remote access still open is withdrawn with it.

    Allowed in every working stage except while a remote session runs: end that first.
    """
    return await act.send(case_id, CaseWorkflow.cancel, Cancel, body, who)


@router.post("/{case_id}/severity", response_model=CaseOut, responses=_ACTION)
async def change_severity(case_id: CaseId, body: SeverityIn, who: Agent, act: Actions) -> CaseOut:
    """Agents and supervisors regrade the case once its impact is better understood.

    The response deadline is recomputed from the registration instant under the case's
    policy version, so a new severity cannot restart the clock; a response or a breach
    already recorded stays. The case's history shows both commitments.
    """
    out = await act.send(case_id, CaseWorkflow.change_severity, ChangeSeverity, body, who)
    await reprioritize(act.temporal, case_id, out.severity, out.plan)
    return out


@router.post("/{case_id}/plan", response_model=CaseOut, responses=_ACTION)
async def change_plan(case_id: CaseId, body: PlanIn, who: Supervisor, act: Actions) -> CaseOut:
    """Supervisors only (agents get 403): corrects the plan the case was registered with.

    The response deadline is recomputed as for a severity change: from the registration
    instant, under the case's policy version, keeping a response or a breach already recorded.
    """
    out = await act.send(case_id, CaseWorkflow.change_plan, ChangePlan, body, who)
    await reprioritize(act.temporal, case_id, out.severity, out.plan)
    return out
