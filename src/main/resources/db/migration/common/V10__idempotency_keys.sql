-- Idempotency-Key (IETF httpapi draft): the first answer to a POST, kept 24 hours per caller (owner: the SHA-256 of
-- the bearer token, never the token) and key. A row without a status is a request in progress, held by its claim
-- until locked_until; the answer is written in the same transaction as the request's effect.
CREATE TABLE idempotency_keys (
    owner varchar(64) NOT NULL,
    idem_key varchar(255) NOT NULL,
    fingerprint varchar(64) NOT NULL,
    claim varchar(36) NOT NULL,
    locked_until timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    status integer,
    location varchar(255),
    etag varchar(100),
    body text,
    PRIMARY KEY (owner, idem_key)
);

-- Pruning of keys older than 24 hours.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
