-- One-time links for the customer. Only a SHA-256 of each token is stored.
CREATE TABLE remote_authorizations (
    request_id         text PRIMARY KEY,
    case_id            text        NOT NULL REFERENCES cases (case_id),
    token_hash         bytea       NOT NULL UNIQUE,
    access             text        NOT NULL,
    reason             text        NOT NULL,
    agent              text        NOT NULL,
    access_hours       double precision NOT NULL,
    text_shown         text        NOT NULL,
    expires_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    decided_at         timestamptz,
    decision           text,
    decided_ip         text,
    decided_user_agent text,
    revoked_at         timestamptz
);
CREATE INDEX remote_authorizations_case_idx ON remote_authorizations (case_id);

CREATE TABLE remote_sessions (
    session_id  text PRIMARY KEY,
    case_id     text        NOT NULL REFERENCES cases (case_id),
    request_id  text        NOT NULL REFERENCES remote_authorizations (request_id),
    code_hash   bytea       NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
