-- An Idempotency-Key belongs to the API key that sent it (another client's key of the
-- same value is another request), and it expires (the API ignores and replaces claims
-- older than IDEMPOTENCY_KEY_TTL_HOURS).
ALTER TABLE intake_requests ADD COLUMN principal text NOT NULL DEFAULT '';
ALTER TABLE intake_requests DROP CONSTRAINT intake_requests_pkey;
ALTER TABLE intake_requests ADD PRIMARY KEY (principal, idempotency_key);

-- Row triggers do not see TRUNCATE: a statement trigger makes the log append-only for it
-- too.
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only();
