"""A reclassified case is served with the task priority of its new severity and plan."""

from __future__ import annotations

from temporalio.client import Client

from tests.stack import ApiStack


async def priority_of(client: Client, case_id: str) -> int:
    described = await client.get_workflow_handle(case_id).describe()
    return described.raw_description.workflow_execution_info.priority.priority_key


async def test_a_case_raised_to_severity_a_is_served_first(stack: ApiStack) -> None:
    case_id = (await stack.open_case(plan="estandar", severity="C"))["case_id"]
    client = stack.services.temporal
    assert client is not None
    assert await priority_of(client, case_id) == 3

    r = await stack.act(case_id, "severity", {"severity": "A", "reason": "nadie trabaja"})
    assert r.status_code == 200, r.text
    assert await priority_of(client, case_id) == 1

    r = await stack.act(
        case_id, "plan", {"plan": "free", "reason": "contrato vencido"}, key="key-sofia"
    )
    assert r.status_code == 200, r.text
    assert await priority_of(client, case_id) == 1  # severity A is first on every plan
    r = await stack.act(case_id, "severity", {"severity": "C", "reason": "era un usuario"})
    assert r.status_code == 200, r.text
    assert await priority_of(client, case_id) == 5
