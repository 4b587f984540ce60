-- PostgreSQL twin of m020_cell_totals.py: per-cell totals of public reports, kept by the
-- same triggers as on SQLite (reports_cell_totals_insert, _delete, _update) through
-- report_cell_totals_add(); the totals are filled from report_cells as on SQLite.

CREATE TABLE report_cell_totals (
    level bigint NOT NULL, cx bigint NOT NULL, cy bigint NOT NULL,
    n bigint NOT NULL, sum_lon double precision NOT NULL, sum_lat double precision NOT NULL,
    PRIMARY KEY (level, cx, cy)
);
INSERT INTO report_cell_totals (level, cx, cy, n, sum_lon, sum_lat)
SELECT level, cx, cy, sum(n), sum(sum_lon), sum(sum_lat) FROM report_cells
GROUP BY level, cx, cy;

-- Adds (delta = +1) or removes (delta = -1) report r at every level; a row is upserted even
-- when delta is 0, as on SQLite.
CREATE FUNCTION report_cell_totals_add(r reports, delta bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO report_cell_totals AS c (level, cx, cy, n, sum_lon, sum_lat)
    SELECT level, trunc((r.lon + 180) / size)::bigint, trunc((r.lat + 90) / size)::bigint,
           delta, delta * r.lon, delta * r.lat
    FROM report_cell_levels
    ON CONFLICT (level, cx, cy) DO UPDATE SET
        n = c.n + excluded.n,
        sum_lon = c.sum_lon + excluded.sum_lon,
        sum_lat = c.sum_lat + excluded.sum_lat
$$;

CREATE FUNCTION reports_cell_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM report_cell_totals_add(OLD, -(1 - OLD.hidden));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM report_cell_totals_add(NEW, 1 - NEW.hidden);
    END IF;
    RETURN NULL;
END
$$;

-- Inserts are counted once per statement, each cell's rows summed first (as in m002's twin).
CREATE FUNCTION reports_cell_totals_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_cell_totals AS c (level, cx, cy, n, sum_lon, sum_lat)
    SELECT level, trunc((r.lon + 180) / size)::bigint, trunc((r.lat + 90) / size)::bigint,
           sum(1 - r.hidden), sum((1 - r.hidden) * r.lon), sum((1 - r.hidden) * r.lat)
    FROM inserted AS r CROSS JOIN report_cell_levels
    GROUP BY 1, 2, 3
    ON CONFLICT (level, cx, cy) DO UPDATE SET
        n = c.n + excluded.n,
        sum_lon = c.sum_lon + excluded.sum_lon,
        sum_lat = c.sum_lat + excluded.sum_lat;
    RETURN NULL;
END
$$;

CREATE TRIGGER reports_cell_totals_insert AFTER INSERT ON reports
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION reports_cell_totals_inserted();
CREATE TRIGGER reports_cell_totals_delete AFTER DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_cell_totals();
CREATE TRIGGER reports_cell_totals_update AFTER UPDATE OF lon, lat, hidden ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_cell_totals();
