-- API keys that are added and revoked while the API runs (`python -m api.keys`).
-- Only the SHA-256 of each key is stored: a key is 32 random bytes, so its digest cannot
-- be turned back into it, and reading this table lets nobody in.
CREATE TABLE api_keys (
    key_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest       bytea       NOT NULL UNIQUE,
    name         text        NOT NULL,
    display_name text        NOT NULL,
    roles        text[]      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_keys_digest_sha256 CHECK (octet_length(digest) = 32),
    -- The name is the actor recorded for what the key does. The system's own actors
    -- ("sistema" for timers and lanes, "cliente:<id>" for the customer's decisions) are
    -- never a key's, so nothing a key does can pass for them. The same rules as
    -- activities.settings.check_key_name, so a row the API reads is always valid.
    CONSTRAINT api_keys_actor_not_reserved
        CHECK (name <> 'sistema' AND name NOT LIKE 'cliente:%'),
    CONSTRAINT api_keys_name_format CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    CONSTRAINT api_keys_display_name
        CHECK (char_length(display_name) BETWEEN 1 AND 200 AND display_name !~ '[[:cntrl:]]'),
    CONSTRAINT api_keys_roles CHECK (
        cardinality(roles) >= 1
        AND roles <@ ARRAY['contact_center', 'agent', 'supervisor', 'ops']::text[]),
    CONSTRAINT api_keys_revoked_after_created
        CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
-- One active key per name: a name is one person or system, and `revoke --name` is exact.
CREATE UNIQUE INDEX api_keys_one_active_per_name ON api_keys (name) WHERE revoked_at IS NULL;

-- The API only reads keys. Making and revoking them needs the owner role (the `migrate`
-- service's in docker-compose.yml), so a compromised API or worker cannot mint a key.
-- The role exists only in that deployment (deploy/postgres-init), not in `make run`.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'support_app') THEN
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON api_keys FROM support_app;
    END IF;
END $$;
