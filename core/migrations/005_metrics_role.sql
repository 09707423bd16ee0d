-- The metrics role: a key that may read the API's /metrics and nothing else, for
-- Prometheus, instead of an ops key that also reads every case.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_roles;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_roles CHECK (
    cardinality(roles) >= 1
    AND roles <@ ARRAY['contact_center', 'agent', 'supervisor', 'ops', 'metrics']::text[]);
