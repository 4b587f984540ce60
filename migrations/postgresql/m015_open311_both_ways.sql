-- PostgreSQL twin of m015_open311_both_ways.py: services reached through a city's Open311
-- server, every field an Open311 client sends, partners' updates, a rate per API key.
--
-- SQLite rebuilds the outbox to widen its channel CHECK; PostgreSQL changes the constraint
-- in place (same columns, same order, same rows).
-- Backfill skipped: `media_urls = json_array(media_url)` only matters for existing reports,
-- and a PostgreSQL database is created fresh by these twins.

ALTER TABLE services ADD COLUMN open311_endpoint text;
ALTER TABLE services ADD COLUMN open311_jurisdiction text;
ALTER TABLE services ADD COLUMN open311_key_env text;
ALTER TABLE services ADD COLUMN open311_service_codes text NOT NULL DEFAULT '{}';
ALTER TABLE services ADD COLUMN open311_statuses text NOT NULL DEFAULT '{}';
ALTER TABLE reports ADD COLUMN reporter_phone text;
ALTER TABLE reports ADD COLUMN device_id text;
ALTER TABLE reports ADD COLUMN account_id text;
ALTER TABLE reports ADD COLUMN address_string text;
ALTER TABLE reports ADD COLUMN address_id text;
ALTER TABLE reports ADD COLUMN media_urls text NOT NULL DEFAULT '[]';
ALTER TABLE api_keys ADD COLUMN rate text;

CREATE TABLE open311_requests (
    report_id bigint NOT NULL REFERENCES reports(id),
    service_id bigint NOT NULL REFERENCES services(id),
    remote_id text NOT NULL,
    created_at text NOT NULL,
    PRIMARY KEY (report_id, service_id),
    UNIQUE (service_id, remote_id)
);

CREATE TABLE open311_received (
    source text NOT NULL,
    update_id text NOT NULL,
    report_id bigint NOT NULL REFERENCES reports(id),
    received_at text NOT NULL,
    PRIMARY KEY (source, update_id)
);

ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check
    CHECK (channel IN ('email', 'webhook', 'open311'));
