"""Dependencies: what a route needs, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from api.auth import KeyRing
from api.errors import Forbidden, Unauthenticated, Unavailable
from api.principals import ApiPrincipal, Role
from core.settings import Settings
from core.store import CaseStore
from workflows.sla import SlaPolicy


@dataclass
class Services:
    """Everything the lifespan opened; kept on `app.state.services`."""

    settings: Settings
    store: CaseStore
    policy: SlaPolicy
    # Keys from settings (digests, fixed at start-up); `keys` adds PostgreSQL's.
    principals: dict[str, ApiPrincipal]
    temporal: Client | None = None
    temporal_connect: Callable[[], Coroutine[Any, Any, Client]] | None = None
    # The API's notion of "now" for customer links; tests move it instead of sleeping.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    keys: KeyRing = field(init=False)

    def __post_init__(self) -> None:
        self.keys = KeyRing(self.principals, self.store.pool)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _temporal(services: Annotated[Services, Depends(_services)]) -> Client:
    if services.temporal is None:
        assert services.temporal_connect is not None
        try:
            services.temporal = await services.temporal_connect()
        except Exception as exc:  # the SDK raises RuntimeError when it cannot connect
            raise Unavailable("Temporal is unreachable; retry later") from exc
    return services.temporal


def _settings(services: Annotated[Services, Depends(_services)]) -> Settings:
    return services.settings


def _store(services: Annotated[Services, Depends(_services)]) -> CaseStore:
    return services.store


def _now(services: Annotated[Services, Depends(_services)]) -> datetime:
    return services.clock()


def _policy(services: Annotated[Services, Depends(_services)]) -> SlaPolicy:
    return services.policy


_bearer = HTTPBearer(auto_error=False, description="API key of a user of the service")


async def _principal(
    services: Annotated[Services, Depends(_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiPrincipal:
    if credentials is None:
        raise Unauthenticated("missing API key (Authorization: Bearer <key>)")
    check = await services.keys.find(credentials.credentials)
    if check.revoked:
        raise Unauthenticated("this API key was revoked")
    if check.principal is None:
        raise Unauthenticated("unknown API key")
    return check.principal


ServicesDep = Annotated[Services, Depends(_services)]
SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[CaseStore, Depends(_store)]
PolicyDep = Annotated[SlaPolicy, Depends(_policy)]
NowDep = Annotated[datetime, Depends(_now)]
TemporalDep = Annotated[Client, Depends(_temporal)]
PrincipalDep = Annotated[ApiPrincipal, Depends(_principal)]


def require(*roles: Role) -> Any:
    """A dependency that lets through principals holding one of `roles`."""

    def check(principal: PrincipalDep) -> ApiPrincipal:
        if not set(principal.roles) & set(roles):
            names = ", ".join(r.value for r in roles)
            raise Forbidden(f"this action needs one of the roles: {names}")
        return principal

    return Depends(check)


ContactCenter = Annotated[ApiPrincipal, require(Role.CONTACT_CENTER, Role.SUPERVISOR)]
Agent = Annotated[ApiPrincipal, require(Role.AGENT, Role.SUPERVISOR)]
Supervisor = Annotated[ApiPrincipal, require(Role.SUPERVISOR)]
# Every role of a person (not the metrics scraper's). A route that hands out cases
# keeps to what `api.auth` lets the caller read: a contact center reads only the cases
# it opened.
Reader = Annotated[
    ApiPrincipal, require(Role.CONTACT_CENTER, Role.AGENT, Role.SUPERVISOR, Role.OPS)
]
# Whoever reads every case: the event log and the team's notices carry customers'
# consent records and the agents' notes, which a contact center does not need.
TeamReader = Annotated[ApiPrincipal, require(Role.AGENT, Role.SUPERVISOR, Role.OPS)]
