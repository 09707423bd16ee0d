-- Cases (a projection of each workflow's state) and their append-only event log.
CREATE SEQUENCE case_number_seq;

CREATE TABLE cases (
    case_id        text PRIMARY KEY,
    revision       integer     NOT NULL,
    stage          text        NOT NULL,
    plan           text        NOT NULL,
    severity       text        NOT NULL,
    customer_id    text        NOT NULL,
    sla_state      text        NOT NULL,
    response_due   timestamptz,
    registered_at  timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    doc            jsonb       NOT NULL
);
CREATE INDEX cases_customer_idx ON cases (customer_id);
CREATE INDEX cases_open_sla_idx ON cases (sla_state, response_due);

CREATE TABLE case_events (
    seq        bigserial   PRIMARY KEY,
    event_id   uuid        NOT NULL UNIQUE,
    case_id    text        NOT NULL REFERENCES cases (case_id),
    revision   integer     NOT NULL,
    type       text        NOT NULL,
    at         timestamptz NOT NULL,
    actor      text        NOT NULL,
    data       jsonb       NOT NULL
);
CREATE INDEX case_events_case_idx ON case_events (case_id, seq);

CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only';
END $$;
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_events_append_only();

-- A retried intake (same Idempotency-Key) returns the case it opened the first time.
CREATE TABLE intake_requests (
    idempotency_key text PRIMARY KEY,
    case_id         text        NOT NULL,
    body_sha256     text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_notifications (
    notification_id uuid PRIMARY KEY,
    case_id         text        NOT NULL REFERENCES cases (case_id),
    audience        text        NOT NULL,
    kind            text        NOT NULL,
    message         text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX team_notifications_case_idx ON team_notifications (case_id, created_at);

-- Messages already handed to the SMTP server, so an activity retry does not resend them.
CREATE TABLE outbound_emails (
    message_id  text PRIMARY KEY,
    case_id     text        NOT NULL,
    recipient   text        NOT NULL,
    kind        text        NOT NULL,
    subject     text        NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now()
);
