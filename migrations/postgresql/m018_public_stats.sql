-- PostgreSQL twin of m018_public_stats.py: public statistics kept on write.
--
-- The same summaries (stats_counts, stats_times) are kept by the same triggers
-- (reports_stats_insert, _delete, _update and report_events_stats), through
-- stats_report_change(). Helpers that give SQLite's arithmetic on PostgreSQL:
-- * julianday(text): SQLite's julianday() of an ISO 8601 time (milliseconds kept, a time
--   without an offset read as UTC, 'now' as now), for the shared SQL as well;
-- * stats_day(text): the local day of a stored UTC time, from stats_calendar;
-- * stats_hours(text, text): hours between two times rounded to two significant figures,
--   half away from zero like SQLite's round().
-- stats_calendar.starts_at is compared byte by byte (COLLATE "C"), as SQLite compares text.
--
-- Backfills skipped: acknowledged_at/fixed_at from past events and the refill of both
-- summaries only matter for existing reports, and a PostgreSQL database is created fresh by
-- these twins.

ALTER TABLE reports ADD COLUMN acknowledged_at text;
ALTER TABLE reports ADD COLUMN fixed_at text;

CREATE TABLE stats_calendar (
    starts_at text COLLATE "C" PRIMARY KEY,
    day text NOT NULL
);
CREATE TABLE stats_zone (name text NOT NULL);
INSERT INTO stats_zone VALUES ('UTC');

CREATE TABLE stats_counts (
    service_id bigint NOT NULL, category_id bigint NOT NULL, area_id bigint NOT NULL,
    day text NOT NULL, status text NOT NULL, n bigint NOT NULL,
    PRIMARY KEY (service_id, category_id, area_id, day, status)
);
CREATE TABLE stats_times (
    service_id bigint NOT NULL, category_id bigint NOT NULL, area_id bigint NOT NULL,
    period text NOT NULL, kind text NOT NULL, hours double precision NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (service_id, category_id, area_id, period, kind, hours)
);

CREATE FUNCTION julianday(moment text) RETURNS double precision
LANGUAGE sql STABLE SET "TimeZone" = 'UTC' AS $$
    SELECT (round(extract(epoch FROM moment::timestamptz) * 1000) + 210866760000000)
        ::double precision / 86400000.0
$$;

CREATE FUNCTION stats_day(moment text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT day FROM stats_calendar WHERE starts_at <= moment
                     ORDER BY starts_at DESC LIMIT 1), substr(moment, 1, 10))
$$;

CREATE FUNCTION stats_hours(since text, until text) RETURNS double precision
LANGUAGE sql STABLE AS $$
    SELECT (CASE WHEN h < 1 THEN round(h::numeric, 2) WHEN h < 10 THEN round(h::numeric, 1)
        WHEN h < 100 THEN round(h::numeric) WHEN h < 1000 THEN round((h / 10)::numeric) * 10
        WHEN h < 10000 THEN round((h / 100)::numeric) * 100
        ELSE round((h / 1000)::numeric) * 1000 END)::double precision
    FROM (SELECT greatest(0.0, (julianday(until) - julianday(since)) * 24.0) AS h) AS t
$$;

-- Adds (delta = +1) or removes (delta = -1) report r in every scope it counts in: a scope
-- is (service, category, area) with 0 for "any"; hidden reports count in none.
CREATE FUNCTION stats_report_change(r reports, delta bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    local_day text;
    what text;
    moment text;
    took double precision;
BEGIN
    IF r.hidden <> 0 THEN
        RETURN;
    END IF;
    local_day := stats_day(r.created_at);
    INSERT INTO stats_counts AS c (service_id, category_id, area_id, day, status, n)
    SELECT column1 * r.service_id, column2 * r.category_id, column3 * r.area_id, local_day,
           r.status, delta
    FROM (VALUES (0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (0, 1, 1)) AS scopes
    ON CONFLICT (service_id, category_id, area_id, day, status)
    DO UPDATE SET n = c.n + excluded.n;
    FOR what, moment IN VALUES ('ack', r.acknowledged_at), ('fix', r.fixed_at) LOOP
        CONTINUE WHEN moment IS NULL;
        took := stats_hours(r.created_at, moment);
        INSERT INTO stats_times AS t (service_id, category_id, area_id, period, kind, hours, n)
        SELECT column1 * r.service_id, column2 * r.category_id, column3 * r.area_id,
               substr(local_day, 1, grain), what, took, delta
        FROM (VALUES (0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (0, 1, 1))
            AS scopes,
            (VALUES (10), (7)) AS grains (grain)
        ON CONFLICT (service_id, category_id, area_id, period, kind, hours)
        DO UPDATE SET n = t.n + excluded.n;
    END LOOP;
END
$$;

CREATE FUNCTION reports_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM stats_report_change(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM stats_report_change(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;

-- Inserts are counted once per statement, each scope's rows counted first (as
-- stats_report_change() counts one report), so a bulk insert updates each summary row once.
CREATE FUNCTION reports_stats_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_counts AS c (service_id, category_id, area_id, day, status, n)
    SELECT column1 * r.service_id, column2 * r.category_id, column3 * r.area_id,
           stats_day(r.created_at), r.status, count(*)
    FROM inserted AS r,
        (VALUES (0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (0, 1, 1)) AS scopes
    WHERE r.hidden = 0
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (service_id, category_id, area_id, day, status)
    DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO stats_times AS t (service_id, category_id, area_id, period, kind, hours, n)
    SELECT column1 * r.service_id, column2 * r.category_id, column3 * r.area_id,
           substr(stats_day(r.created_at), 1, grain), what, stats_hours(r.created_at, moment),
           count(*)
    FROM inserted AS r
        CROSS JOIN LATERAL (VALUES ('ack', r.acknowledged_at), ('fix', r.fixed_at))
            AS moments (what, moment),
        (VALUES (0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (0, 1, 1)) AS scopes,
        (VALUES (10), (7)) AS grains (grain)
    WHERE r.hidden = 0 AND moment IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (service_id, category_id, area_id, period, kind, hours)
    DO UPDATE SET n = t.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER reports_stats_insert AFTER INSERT ON reports
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION reports_stats_inserted();
CREATE TRIGGER reports_stats_delete AFTER DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_stats();
CREATE TRIGGER reports_stats_update AFTER UPDATE OF status, service_id, category_id,
    area_id, hidden, created_at, acknowledged_at, fixed_at ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_stats();

-- A status event keeps the report's first acknowledgement and its latest fix (cleared when
-- it is reopened).
CREATE FUNCTION report_events_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reports SET
        acknowledged_at = coalesce(acknowledged_at,
            CASE WHEN NEW.to_status != 'new' THEN NEW.at END),
        fixed_at = CASE WHEN NEW.to_status = 'fixed' THEN NEW.at
            WHEN NEW.to_status IN ('new', 'acknowledged', 'in_progress') THEN NULL
            ELSE fixed_at END
    WHERE id = NEW.report_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_events_stats AFTER INSERT ON report_events
    FOR EACH ROW WHEN (NEW.kind = 'status' AND NEW.to_status IS DISTINCT FROM NEW.from_status)
    EXECUTE FUNCTION report_events_stats();

CREATE INDEX reports_area_created ON reports(area_id, created_at);
-- The most supported open reports, read in order of supports.
CREATE INDEX reports_open_supported ON reports(supports DESC, id)
    WHERE supports > 0 AND hidden = 0 AND status IN ('new', 'acknowledged', 'in_progress');
