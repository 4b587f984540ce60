-- PostgreSQL twin of m010_privacy.py: supports keep a keyed hash of the supporter's address
-- instead of the address; subscriptions remember when their confirmation was last queued.

DROP INDEX supports_report_email;
ALTER TABLE supports DROP COLUMN email;
ALTER TABLE supports ADD COLUMN email_key text;
CREATE UNIQUE INDEX supports_report_email_key ON supports(report_id, email_key)
    WHERE email_key IS NOT NULL;
CREATE INDEX supports_created ON supports(created_at);
ALTER TABLE subscriptions ADD COLUMN confirmation_sent_at text;
