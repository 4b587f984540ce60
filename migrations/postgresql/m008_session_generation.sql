-- PostgreSQL twin of m008_session_generation.py: a session generation per staff account.

ALTER TABLE users ADD COLUMN session_generation bigint NOT NULL DEFAULT 0;
