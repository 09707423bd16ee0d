"""The answers a case keeps so a client's retry is answered, never applied twice.

A request is identified by its action, the acting identity and the client's request
id, so nobody else's id can shadow it; the body's digest tells a retry from a reuse of
the id for something else. The book is bounded and travels across continue-as-new.
"""

from __future__ import annotations

from workflows.messages import Answer
from workflows.models import ActionInput, CaseState
from workflows.refusals import REQUEST_ID_REUSED, refused
from workflows.rules import Action

# How many answers continue-as-new carries; the book holds up to twice this in a run.
ANSWERS_KEPT = 200


def request_key(action: Action, cmd: ActionInput) -> tuple[str, str] | None:
    """(key, body digest) of a request a client may retry, or None without a request id."""
    if cmd.request_id is None:
        return None
    return f"{action.value}:{cmd.actor}:{cmd.request_id}", cmd.body_digest()


class AnswerBook:
    """Applied requests by key, in the order they were applied."""

    def __init__(self, answers: list[Answer], seen_request_ids: list[str]) -> None:
        self._answers = {a.key: a for a in answers}
        # Request ids applied by version 1, which kept ids without action or body.
        self._seen_v1 = seen_request_ids

    def earlier(self, action: Action, cmd: ActionInput, state: CaseState) -> int | None:
        """The revision an earlier identical request produced when `cmd` is its retry.

        Raises:
            ApplicationError: `REQUEST_ID_REUSED` when the id was used with another body.
        """
        if cmd.request_id in self._seen_v1:
            return state.revision
        request = request_key(action, cmd)
        answer = None if request is None else self._answers.get(request[0])
        if answer is None or request is None:
            return None
        if answer.body_sha256 != request[1]:
            raise refused(
                f"request_id {cmd.request_id!r} was already used for a different {action.value}",
                state,
                [],
                REQUEST_ID_REUSED,
            )
        return answer.revision

    def remember(self, action: Action, cmd: ActionInput, revision: int) -> None:
        """Keep the answer to `cmd`, dropping the oldest when the book is full."""
        request = request_key(action, cmd)
        if request is None:
            return
        key, digest = request
        self._answers[key] = Answer(key=key, body_sha256=digest, revision=revision)
        if len(self._answers) > 2 * ANSWERS_KEPT:
            self._answers = dict(list(self._answers.items())[-ANSWERS_KEPT:])

    def carried(self) -> list[Answer]:
        """What continue-as-new takes along: the most recent answers."""
        return list(self._answers.values())[-ANSWERS_KEPT:]
