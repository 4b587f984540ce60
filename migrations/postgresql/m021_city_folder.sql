-- PostgreSQL twin of m021_city_folder.py: a city folder's settings and the fingerprint of
-- each file it loaded.

CREATE TABLE city_settings (
    name text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE city_files (
    part text PRIMARY KEY,
    fingerprint text NOT NULL,
    loaded_at text NOT NULL
);
