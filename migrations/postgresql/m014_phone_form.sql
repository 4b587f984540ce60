-- PostgreSQL twin of m014_phone_form.py: one report per submission key, and photos staged
-- before the report is sent.

ALTER TABLE reports ADD COLUMN submission_key text;
CREATE UNIQUE INDEX reports_submission_key ON reports(submission_key)
    WHERE submission_key IS NOT NULL;

CREATE TABLE staged_photos (
    id text PRIMARY KEY,
    owner_key text NOT NULL,
    display_name text NOT NULL,
    thumb_name text NOT NULL,
    width bigint NOT NULL,
    height bigint NOT NULL,
    created_at text NOT NULL
);
CREATE INDEX staged_photos_owner ON staged_photos(owner_key, created_at);
CREATE INDEX staged_photos_created ON staged_photos(created_at);
CREATE INDEX staged_photos_display ON staged_photos(display_name);
CREATE INDEX staged_photos_thumb ON staged_photos(thumb_name);
