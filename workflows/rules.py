"""Which action a case allows in which stage.

Pure functions over `CaseState`, so the workflow's update validators, the API (to say
what is allowed in a 409) and the tests share one definition of the lifecycle.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from workflows.domain import Stage
from workflows.models import AuthorizationStatus, CaseState, ContactChannel, ResolutionMethod
from workflows.text import MAX_AUTHORIZATIONS, MAX_CONTACTS, MAX_RESOLUTIONS, MAX_SESSIONS


class Action(StrEnum):
    """Everything that can be asked of a case, by an agent or (`decide_remote_access`) the customer.

    One vocabulary for the workflow's updates, the API's role checks and routes, and the
    allowed actions a 409 lists, so a refusal tells the client what it may do instead.
    """

    CONTACT = "contact"
    REQUEST_REMOTE_ACCESS = "request_remote_access"
    DECIDE_REMOTE_ACCESS = "decide_remote_access"
    START_REMOTE_SESSION = "start_remote_session"
    END_REMOTE_SESSION = "end_remote_session"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"
    CHANGE_SEVERITY = "change_severity"
    CHANGE_PLAN = "change_plan"


_WORKING = frozenset(
    {
        Stage.REGISTRO,
        Stage.CONTACTO,
        Stage.RESOLUCION_TELEFONICA,
        Stage.AUTORIZACION_REMOTA,
        Stage.ACCESO_REMOTO,
    }
)
_CAN_ASK_REMOTE = frozenset({Stage.CONTACTO, Stage.RESOLUCION_TELEFONICA, Stage.ACCESO_REMOTO})


# Past these a case stops growing: the action is refused, the case stays workable.
_CAPS = {
    Action.CONTACT: ("contacts", MAX_CONTACTS),
    Action.REQUEST_REMOTE_ACCESS: ("authorizations", MAX_AUTHORIZATIONS),
    Action.START_REMOTE_SESSION: ("sessions", MAX_SESSIONS),
    Action.REOPEN: ("resolutions", MAX_RESOLUTIONS),
}


def allowed_actions(state: CaseState, now: datetime) -> list[Action]:
    """What may be done to the case at `now`: by stage, remote-access status and the size caps.

    Validators refuse anything else and the API shows the list to clients. `now` matters: a
    request or the reopen window may have run out before the timer that records it has fired.
    """
    return [a for a in _stage_actions(state, now) if not _at_cap(state, a)]


def _at_cap(state: CaseState, action: Action) -> bool:
    field, cap = _CAPS.get(action, ("", 0))
    return bool(field) and len(getattr(state, field)) >= cap


def _stage_actions(state: CaseState, now: datetime) -> list[Action]:
    stage = state.stage
    if stage is Stage.RESUELTO:
        reopenable = state.reopen_until is not None and now < state.reopen_until
        return [Action.CLOSE, Action.REOPEN] if reopenable else [Action.CLOSE]
    if stage not in _WORKING:
        return []
    allowed = [Action.CONTACT, Action.CHANGE_SEVERITY, Action.CHANGE_PLAN]
    in_session = state.active_session is not None
    auth = state.authorization
    # The customer decides while the request is pending and unexpired (checked here too:
    # an update is validated before a timer that fires in the same workflow task), and
    # may revoke a granted authorization until it ends.
    if auth is not None and (
        (auth.status is AuthorizationStatus.PENDING and now < auth.expires_at)
        or auth.status is AuthorizationStatus.GRANTED
    ):
        allowed.append(Action.DECIDE_REMOTE_ACCESS)
    if in_session:
        allowed.append(Action.END_REMOTE_SESSION)
        return allowed
    allowed.append(Action.CANCEL)
    if stage in _CAN_ASK_REMOTE:
        allowed.append(Action.REQUEST_REMOTE_ACCESS)
    if stage is Stage.ACCESO_REMOTO and authorization_usable(state, now):
        allowed.append(Action.START_REMOTE_SESSION)
    if stage is not Stage.AUTORIZACION_REMOTA and possible_methods(state):
        allowed.append(Action.RESOLVE)
    return allowed


def authorization_usable(state: CaseState, now: datetime) -> bool:
    """Whether a session may start now: the customer granted access and it has not run out.

    Checked against `now`, not the status alone, because the deadline that ends access may
    not have fired yet in this workflow task.
    """
    auth = state.authorization
    return (
        auth is not None
        and auth.status is AuthorizationStatus.GRANTED
        and auth.access_until is not None
        and now < auth.access_until
    )


def possible_methods(state: CaseState) -> set[ResolutionMethod]:
    """Phone resolution needs a phone call that reached the customer; remote resolution
    needs a remote session that took place."""
    methods: set[ResolutionMethod] = set()
    if any(c.channel is ContactChannel.PHONE and c.reached_customer for c in state.contacts):
        methods.add(ResolutionMethod.PHONE)
    if any(s.ended_at is not None for s in state.sessions):
        methods.add(ResolutionMethod.REMOTE)
    return methods


def refusal(state: CaseState, action: Action, now: datetime) -> str | None:
    """None when `action` is allowed now, else a sentence an agent can act on."""
    allowed = allowed_actions(state, now)
    if action in allowed:
        return None
    names = ", ".join(a.value for a in allowed) or "none"
    if _at_cap(state, action):
        field, cap = _CAPS[action]
        return f"this case already has the maximum of {cap} {field}; allowed: {names}"
    why = f"{action.value} is not allowed in stage {state.stage.value}"
    if action is Action.START_REMOTE_SESSION and state.stage is Stage.ACCESO_REMOTO:
        why += " without a valid, unexpired, unrevoked authorization from the customer"
    elif action is Action.RESOLVE and not possible_methods(state):
        why += " before the customer was reached by phone or a remote session took place"
    elif action is Action.REOPEN and state.stage is Stage.RESUELTO:
        why += " after the reopen window ended"
    return f"{why}; allowed: {names}"
