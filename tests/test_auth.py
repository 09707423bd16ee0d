"""API keys: only digests anywhere, names the system keeps for itself, the command that
makes and revokes them, keys added and revoked while the API runs, and the dev stack's
first-run keys."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from pydantic import ValidationError

from api import auth, keys
from api.principals import ApiPrincipal, Role, configured_principals
from core.db import Connection, make_pool, migrate
from core.settings import Settings
from tests.builders import intake_body
from tests.eventually import eventually
from tests.stack import ApiStack
from worker import dev

ROOT = Path(__file__).resolve().parent.parent
AGENT = {"name": "ana", "display_name": "Ana García", "roles": ["agent"]}


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


# --- Settings hold digests only ---


def test_a_key_in_clear_in_settings_stops_the_process_without_quoting_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SystemExit, match="in clear") as refused:
        Settings(api_keys={"amger_secret-123456": AGENT})
    assert "amger_secret-123456" not in str(refused.value)
    monkeypatch.setenv("API_KEYS", json.dumps({"amger_secret-123456": AGENT}))
    with pytest.raises(SystemExit, match="API_KEYS holds an API key in clear") as refused:
        Settings()
    assert "amger_secret-123456" not in str(refused.value)
    monkeypatch.setenv("API_KEYS", json.dumps({keys.settings_digest("k").upper(): AGENT}))
    with pytest.raises(SystemExit, match="malformed digest"):
        Settings()


def test_settings_take_digests_from_the_variable_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "keys.json"
    file.write_text(json.dumps({keys.settings_digest("key-2"): {"name": "bea", "roles": ["ops"]}}))
    monkeypatch.setenv("API_KEYS", json.dumps({keys.settings_digest("key-1"): AGENT}))
    monkeypatch.setenv("API_KEYS_FILE", str(file))
    principals = configured_principals(Settings())
    assert principals[keys.settings_digest("key-1")].display_name == "Ana García"
    # A settings entry without a display name shows its name.
    assert principals[keys.settings_digest("key-2")].display_name == "bea"


def test_a_key_in_clear_in_the_file_or_a_missing_file_stops_the_process(
    tmp_path: Path,
) -> None:
    file = tmp_path / "keys.json"
    file.write_text(json.dumps({"dev-agente-abcdef": AGENT}))
    with pytest.raises(SystemExit, match=r"API_KEYS_FILE .* in clear") as refused:
        configured_principals(Settings(api_keys_file=file))
    assert "dev-agente-abcdef" not in str(refused.value)
    with pytest.raises(SystemExit, match="cannot be read"):
        configured_principals(Settings(api_keys_file=tmp_path / "missing.json"))
    file.write_text("{not json: dev-agente-abcdef")
    with pytest.raises(SystemExit, match="not a JSON object") as refused:
        configured_principals(Settings(api_keys_file=file))
    assert "dev-agente-abcdef" not in str(refused.value)


@pytest.mark.parametrize("name", ["sistema", "cliente:C-7", "cliente:", "Sistema", "ana maría", ""])
def test_the_systems_own_actors_and_odd_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        ApiPrincipal(name=name, display_name="X", roles=[Role.AGENT])
    with pytest.raises(ValidationError, match=r"reserved|a-z 0-9"):
        Settings(api_keys={keys.settings_digest("k"): AGENT | {"name": name}})


def test_a_display_name_refuses_spoofing_characters() -> None:
    with pytest.raises(ValidationError, match="bidirectional"):
        ApiPrincipal(name="ana", display_name="Ana\u202egarcía", roles=[Role.AGENT])


def test_a_key_has_256_random_bits() -> None:
    made = {keys.new_key() for _ in range(100)}
    assert len(made) == 100
    for key in made:
        assert key.startswith(keys.KEY_PREFIX)
        assert len(key.removeprefix(keys.KEY_PREFIX)) >= 43  # 32 bytes in base64url


# --- The table ---


async def test_the_table_refuses_the_systems_own_actors(migrated_db: str) -> None:
    async with await Connection.connect(migrated_db, autocommit=True) as conn:
        for name, constraint in [
            ("sistema", "api_keys_actor_not_reserved"),
            ("cliente:C-7", "api_keys_actor_not_reserved"),
            ("Ana", "api_keys_name_format"),
        ]:
            with pytest.raises(psycopg.errors.CheckViolation) as refused:
                await conn.execute(
                    "INSERT INTO api_keys (digest, name, display_name, roles)"
                    " VALUES (%s, %s, 'X', ARRAY['agent'])",
                    (keys.digest(keys.new_key()), name),
                )
            assert refused.value.diag.constraint_name == constraint, name


# --- The command ---


def command(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEYS", "API_KEYS_FILE")}
    return subprocess.run(
        [sys.executable, "-m", "api.keys", *args],
        cwd=ROOT,
        env=env | {"DATABASE_URL": database_url},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_create_prints_the_key_once_and_stores_only_its_digest(migrated_db: str) -> None:
    name = unique("ana")
    made = command(
        migrated_db, "create", "--name", name, "--display-name", "Ana García", "--role", "agent"
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == key + "\n"  # nothing but the key on stdout
    assert key.startswith(keys.KEY_PREFIX)
    assert "shown only now" in made.stderr
    async with await Connection.connect(migrated_db, autocommit=True, row_factory=dict_row) as c:
        cur = await c.execute("SELECT * FROM api_keys WHERE name = %s", (name,))
        rows = await cur.fetchall()
        assert len(rows) == 1
        assert bytes(rows[0]["digest"]) == hashlib.sha256(key.encode()).digest()
        assert (rows[0]["display_name"], rows[0]["roles"]) == ("Ana García", ["agent"])
        cur = await c.execute(
            "SELECT count(*) AS n FROM api_keys t WHERE t::text LIKE %s", (f"%{key[6:]}%",)
        )
        assert (await cur.fetchone()) == {"n": 0}

    again = command(migrated_db, "create", "--name", name, "--display-name", "A", "--role", "ops")
    assert again.returncode != 0
    assert "already has an active key" in again.stderr
    listing = command(migrated_db, "list")
    assert listing.returncode == 0
    line = next(x for x in listing.stdout.splitlines() if x.startswith(name))
    assert "Ana García" in line
    assert "agent" in line
    assert line.rstrip().endswith("-")  # not revoked
    assert key not in listing.stdout
    assert rows[0]["digest"].hex() not in listing.stdout

    revoked = command(migrated_db, "revoke", "--name", name)
    assert revoked.returncode == 0, revoked.stderr
    line = next(x for x in command(migrated_db, "list").stdout.splitlines() if x.startswith(name))
    assert not line.rstrip().endswith("-")
    assert command(migrated_db, "revoke", "--name", name).returncode != 0
    # A revoked name may get a new key.
    renewed = command(migrated_db, "create", "--name", name, "--display-name", "A", "--role", "ops")
    assert renewed.returncode == 0, renewed.stderr


@pytest.mark.parametrize("name", ["sistema", "cliente:C-7"])
async def test_the_command_refuses_the_systems_own_actors(migrated_db: str, name: str) -> None:
    made = command(migrated_db, "create", "--name", name, "--display-name", "S", "--role", "ops")
    assert made.returncode != 0
    assert "reserved" in made.stderr
    assert made.stdout == ""


async def test_keys_for_settings_and_digests_of_existing_keys(migrated_db: str) -> None:
    name = unique("servicio")
    made = command(
        migrated_db, "create", "--name", name, "--display-name", "S", "--role", "ops", "--no-store"
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    entry = json.loads(made.stderr.strip().splitlines()[-1])
    assert entry == {
        keys.settings_digest(key): {"name": name, "display_name": "S", "roles": ["ops"]}
    }
    assert name not in command(migrated_db, "list").stdout  # nothing stored
    digest = command(migrated_db, "digest", stdin=key + "\n")
    assert digest.stdout.strip() == keys.settings_digest(key)
    assert configured_principals(Settings(api_keys=entry))[digest.stdout.strip()].name == name


# --- Keys added and revoked while the API runs ---


async def test_a_key_made_while_the_api_runs_works_at_once_and_revoked_stops(
    stack: ApiStack, migrated_db: str
) -> None:
    name = unique("marta")
    made = command(
        migrated_db, "create", "--name", name, "--display-name", "Marta", "--role", "contact_center"
    )
    key = made.stdout.strip()
    r = await stack.http.post(
        "/cases",
        json=intake_body(plan="basico", severity="C"),
        headers=stack.auth(key),
    )
    assert r.status_code == 201, r.text
    assert r.json()["opened_by"] == name  # the key's name is the actor
    assert command(migrated_db, "revoke", "--name", name).returncode == 0

    async def refused() -> httpx.Response:
        r = await stack.http.get("/cases", headers=stack.auth(key))
        assert r.status_code != 200, "still accepted"
        return r

    r = await eventually(refused, within=auth.FRESH_SECONDS + 1, every=0.1)
    assert r.status_code == 401
    assert r.json()["detail"] == "this API key was revoked"
    assert r.headers["www-authenticate"] == "Bearer"


async def test_no_key_and_unknown_keys_are_401(stack: ApiStack) -> None:
    r = await stack.http.get("/cases")
    assert (r.status_code, r.json()["detail"]) == (
        401,
        "missing API key (Authorization: Bearer <key>)",
    )
    for wrong in (keys.new_key(), "key-op", "x" * 5000, "sistema"):
        r = await stack.http.get("/cases", headers=stack.auth(wrong))
        assert (r.status_code, r.json()["detail"]) == (401, "unknown API key"), wrong


# --- The cache, deterministically ---


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_answers_are_kept_seconds_and_used_longer_only_while_postgresql_is_down(
    migrated_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("ines")
    principal = ApiPrincipal(name=name, display_name="Inés", roles=[Role.AGENT])
    clock = Clock()
    async with make_pool(migrated_db) as pool:
        ring = auth.KeyRing({}, pool, clock)
        async with pool.connection() as conn:
            key = await keys.create(conn, principal)
        assert (await ring.find(key)).principal == principal
        async with pool.connection() as conn:
            await keys.revoke(conn, name)
        assert (await ring.find(key)).principal == principal  # remembered...
        clock.now += auth.FRESH_SECONDS
        assert (await ring.find(key)).revoked  # ...for FRESH_SECONDS only

        async with pool.connection() as conn:
            key = await keys.create(conn, principal)
        assert (await ring.find(key)).principal == principal

        queries: list[bytes] = []

        async def down(digest: bytes) -> auth.KeyCheck:
            queries.append(digest)
            raise psycopg.OperationalError("connection refused")

        monkeypatch.setattr(ring, "_query", down)
        clock.now += auth.STALE_SECONDS - 2
        assert (await ring.find(key)).principal == principal  # agents keep working...
        assert (await ring.find(key)).principal == principal
        assert len(queries) == 1  # ...without waiting for the pool on every request
        clock.now += auth.FRESH_SECONDS
        with pytest.raises(psycopg.OperationalError):  # answered 503
            await ring.find(key)
        with pytest.raises(psycopg.OperationalError):  # never seen: neither yes nor no
            await ring.find(keys.new_key())


# --- The dev stack's keys ---


@pytest.fixture
async def empty_db(migrated_db: str) -> AsyncIterator[str]:
    """A database of its own, migrated: the dev stack's first run needs an empty table."""
    name = f"devkeys_{uuid.uuid4().hex[:12]}"
    async with await Connection.connect(migrated_db, autocommit=True) as conn:
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.errors.InsufficientPrivilege:
            pytest.skip("DATABASE_URL may not create databases")
    params: dict[str, Any] = conninfo_to_dict(migrated_db)
    url = make_conninfo(**(params | {"dbname": name}))
    await migrate(url)
    yield url
    async with await Connection.connect(migrated_db, autocommit=True) as conn:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def test_the_dev_stack_makes_one_key_per_role_once(empty_db: str, tmp_path: Path) -> None:
    # The dev stack makes keys only when settings name none (whatever this shell's are).
    no_settings_keys = Settings(api_keys={}, api_keys_file=None)
    made = await dev.dev_keys(empty_db)
    assert sorted(p.roles[0] for p, _ in made) == sorted(Role)
    banner = "\n".join(dev.keys_banner(made, no_settings_keys))
    for principal, key in made:
        assert banner.count(key) == 1
        assert principal.display_name
    assert "only their SHA-256 digests are stored" in banner
    async with make_pool(empty_db) as pool:
        ring = auth.KeyRing({}, pool)
        for principal, key in made:
            assert (await ring.find(key)).principal == principal

    assert await dev.dev_keys(empty_db) == []  # a later run
    later = "\n".join(dev.keys_banner([], no_settings_keys))
    assert "shown on the first run" in later
    assert "-m api.keys create --name" in later
    assert not any(key in later for _, key in made)

    old = tmp_path / "api-keys.json"
    old.write_text(json.dumps({"dev-agente-abc": {"name": "agente", "roles": ["agent"]}}))
    assert dev.forget_clear_keys(old)
    assert not old.exists()
    old.write_text(json.dumps({keys.settings_digest("k"): AGENT}))
    assert not dev.forget_clear_keys(old)
    assert old.exists()
