"""Proof that a customer's decision on remote access came from the customer's page.

The API, after checking the customer's one-time token, signs the decision with a key it
shares with the worker; the workflow's validator accepts a decision only with a valid
signature. Anyone who can reach Temporal (its frontend, the UI) can send an update, but
cannot make this signature, so consent cannot be forged there.

The key is process configuration set once at start-up (`configure`). Reading it from a
validator is safe for replay: validators do not run when a history is replayed.
"""

from __future__ import annotations

import hashlib
import hmac

_key: bytes | None = None


def configure(secret: str) -> None:
    """Set the shared key (the API and the worker call this at start-up)."""
    global _key
    if len(secret) < 32:
        raise ValueError("CONSENT_HMAC_SECRET must be at least 32 characters")
    _key = hashlib.sha256(b"consent\n" + secret.encode()).digest()


def _message(case_id: str, authorization_id: str, decision: str, text_shown: str) -> bytes:
    text_digest = hashlib.sha256(text_shown.encode()).hexdigest()
    return "\n".join((case_id, authorization_id, decision, text_digest)).encode()


def sign(case_id: str, authorization_id: str, decision: str, text_shown: str) -> str:
    """The API's proof of a customer's decision.

    It binds the case, the request, the decision and a digest of the exact text shown, so a
    proof cannot be reused for another request, the opposite decision or different wording.

    Raises:
        RuntimeError: `configure` was not called; signing with no key must fail loudly.
    """
    if _key is None:
        raise RuntimeError("consent key not configured")
    message = _message(case_id, authorization_id, decision, text_shown)
    return hmac.new(_key, message, hashlib.sha256).hexdigest()


def verify(case_id: str, authorization_id: str, decision: str, text_shown: str, proof: str) -> bool:
    """Whether `proof` is the API's signature of exactly this decision.

    False, not an error, when no key is configured: a worker without the secret refuses every
    decision instead of accepting unsigned ones. The comparison takes constant time.
    """
    if _key is None or not proof:
        return False
    expected = sign(case_id, authorization_id, decision, text_shown)
    return hmac.compare_digest(expected, proof)
