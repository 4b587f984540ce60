-- m022_retired_catalogue: the PostgreSQL twin of migrations/m022_retired_catalogue.py.
-- Categories and services a city folder no longer lists are retired (1), not deleted:
-- their reports keep them; a retired category is no longer offered.
ALTER TABLE categories ADD COLUMN retired bigint NOT NULL DEFAULT 0;
ALTER TABLE services ADD COLUMN retired bigint NOT NULL DEFAULT 0;
