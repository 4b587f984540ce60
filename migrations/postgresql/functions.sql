-- Functions that give PostgreSQL the names the shared SQL of app/storage calls, with the
-- meaning SQLite gives them. Replaced on every upgrade (CREATE OR REPLACE), so they always
-- match the code; the schema itself lives in the mNNN_*.sql twins.

-- Great-circle distance in metres (haversine), as app.storage.distance_m on SQLite.
CREATE OR REPLACE FUNCTION distance_m(lon1 double precision, lat1 double precision,
                                      lon2 double precision, lat2 double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT 2 * 6371008.8 * asin(least(1.0, sqrt(
        sin(radians(lat2 - lat1) / 2) ^ 2
        + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2)))
$$;

-- group_concat(value [, separator]): SQLite's aggregate; NULL values are left out, the
-- separator defaults to a comma.
CREATE OR REPLACE FUNCTION civic_concat_step(acc text, value text, separator text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL THEN acc WHEN acc IS NULL THEN value
                ELSE acc || separator || value END
$$;
CREATE OR REPLACE FUNCTION civic_concat_step(acc text, value text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT civic_concat_step(acc, value, ',')
$$;
CREATE OR REPLACE AGGREGATE group_concat(text, text) (SFUNC = civic_concat_step, STYPE = text);
CREATE OR REPLACE AGGREGATE group_concat(text) (SFUNC = civic_concat_step, STYPE = text);

-- json_quote(text): the text as a JSON string, as SQLite's json_quote gives it for text
-- (NULL gives the JSON null); the map's fragments are written with it (app/storage/public.py).
CREATE OR REPLACE FUNCTION json_quote(value text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(to_json(value)::text, 'null')
$$;
