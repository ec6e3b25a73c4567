-- The fleet's TLS-RPT store, version 1. Applied once by Schema, in one transaction.

-- Session counts of every relay, summed. The key's text fields can be long (a policy's whole
-- text), beyond what a btree index entry may hold: they are keyed by their SHA-256.
CREATE TABLE session_count (
  day date NOT NULL,
  report_domain text NOT NULL,
  key_hash bytea NOT NULL,
  policy_domain text NOT NULL,
  policy_type text NOT NULL,
  policy_strings text NOT NULL,
  mx_patterns text NOT NULL,
  result text NOT NULL,
  reason_code text NOT NULL,
  additional_info text NOT NULL,
  sending_ip text NOT NULL,
  mx_host text NOT NULL,
  mx_helo text NOT NULL,
  mx_ip text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (day, report_domain, key_hash)
);

-- How far each relay's outbox has been forwarded (exactly once: a batch whose rows are at or
-- below last_seq was forwarded before), and until when everything it counted is here.
CREATE TABLE relay_progress (
  relay text PRIMARY KEY,
  last_seq bigint NOT NULL,
  forwarded_at timestamptz NOT NULL,
  drained_at timestamptz
);

-- One row per report and destination, as in a single relay's store.
CREATE TABLE delivery (
  day date NOT NULL,
  domain text NOT NULL,
  destination text NOT NULL,
  report_id text NOT NULL,
  state text NOT NULL,
  attempts integer NOT NULL,
  next_attempt bigint NOT NULL,
  last_error text NOT NULL,
  PRIMARY KEY (day, domain, destination)
);
