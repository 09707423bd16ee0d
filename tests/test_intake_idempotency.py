"""Idempotency-Key on intake: the sending API key's own, expiring, answered after the
case ended, and no case number spent on a retry."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.builders import customer_body, intake_body
from tests.stack import ApiStack

pytestmark = pytest.mark.asyncio(loop_scope="session")
BODY = intake_body(customer=customer_body(id="C-idem"), plan="estandar", severity="B")


async def _intake(stack: ApiStack, key: str, who: str = "key-centralita", **body: Any) -> Any:
    headers = stack.auth(who) | {"Idempotency-Key": key}
    return await stack.http.post("/cases", json=BODY | body, headers=headers)


def _number(case_id: str) -> int:
    return int(case_id.removeprefix("CASE-"))


async def test_retries_spend_no_case_number(stack: ApiStack) -> None:
    key = f"k-{uuid.uuid4()}"
    first = await _intake(stack, key)
    for _ in range(3):
        again = await _intake(stack, key)
        assert again.status_code == 201
        assert again.json()["case_id"] == first.json()["case_id"]
    fresh = await stack.open_case()
    assert _number(fresh["case_id"]) == _number(first.json()["case_id"]) + 1


async def test_a_key_belongs_to_the_api_key_that_sent_it(stack: ApiStack) -> None:
    key = f"k-{uuid.uuid4()}"
    mine = await _intake(stack, key)
    theirs = await _intake(stack, key, who="key-sofia", summary="Otra cosa")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["case_id"] != theirs.json()["case_id"]


async def test_a_retry_after_the_case_ended_answers_with_that_case(stack: ApiStack) -> None:
    key = f"k-{uuid.uuid4()}"
    first = await _intake(stack, key)
    case_id = first.json()["case_id"]
    r = await stack.act(case_id, "cancel", {"reason": "abierto dos veces"})
    assert r.status_code == 200
    handle = stack.services.temporal
    assert handle is not None
    await handle.get_workflow_handle(case_id).result()  # the workflow has ended
    again = await _intake(stack, key)
    assert again.status_code == 201, again.text
    assert again.json()["case_id"] == case_id
    assert again.json()["stage"] == "cancelado"


async def test_an_expired_key_opens_a_new_case(stack: ApiStack) -> None:
    key = f"k-{uuid.uuid4()}"
    first = await _intake(stack, key)
    async with stack.services.store.pool.connection() as conn:
        await conn.execute(  # this test's own claim, aged past the 24 h default
            "UPDATE intake_requests SET created_at = now() - interval '25 hours'"
            " WHERE idempotency_key = %s",
            (key,),
        )
    later = await _intake(stack, key)
    assert later.status_code == 201
    assert later.json()["case_id"] != first.json()["case_id"]


async def test_a_reused_key_with_another_body_is_refused(stack: ApiStack) -> None:
    key = f"k-{uuid.uuid4()}"
    assert (await _intake(stack, key)).status_code == 201
    other = await _intake(stack, key, summary="otra")
    assert other.status_code == 409
