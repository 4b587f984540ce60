-- PostgreSQL twin of m009_open311_tokens.py: a request token per Open311 request, and an
-- index on event times for servicerequestupdates.

ALTER TABLE reports ADD COLUMN request_token text;
CREATE UNIQUE INDEX reports_request_token ON reports(request_token);
CREATE INDEX report_events_at ON report_events(at);
