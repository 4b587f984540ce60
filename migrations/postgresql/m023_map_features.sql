-- m023_map_features: the public map's features stored by place, their fixed text written
-- once (see migrations/m023_map_features.py). One row per public report, keyed by its cell
-- of a grid of 512 cells per degree (rows of cells first), with the parts of its GeoJSON
-- text that do not depend on the reader (head: id and geometry; tail: dates, address,
-- description, the name when shown, supports) and its thumbnail's file name. Triggers keep
-- it; hidden reports have no row. PostgreSQL writes its JSON with spaces after the colons:
-- the text differs from SQLite's, the JSON it says does not. PostgreSQL does not keep a
-- table in key order: run CLUSTER map_features USING map_features_pkey after a large load.

CREATE TABLE map_features (
    cy bigint NOT NULL,
    cx bigint NOT NULL,
    id bigint NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    created_at text NOT NULL,
    status text NOT NULL,
    category_id bigint NOT NULL,
    service_id bigint NOT NULL,
    head text NOT NULL,
    thumb text,
    tail text NOT NULL,
    PRIMARY KEY (cy, cx, id)
);

-- The grid cell of a position, as app.storage.public computes the cells of a view: the
-- integer part, as SQLite's CAST (positions are never below -180/-90, so floor is it).
CREATE FUNCTION map_feature_cy(lat double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT floor((lat + 90) * 512)::bigint $$;
CREATE FUNCTION map_feature_cx(lon double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT floor((lon + 180) * 512)::bigint $$;

-- The thumbnail file of a report's first visible photo, or NULL.
CREATE FUNCTION map_feature_thumb(report bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT p.thumb_name FROM photos p
    WHERE p.report_id = report AND p.hidden = 0
    ORDER BY p.position LIMIT 1
$$;

-- A report written: its old row goes, its new row comes unless it is hidden.
CREATE FUNCTION map_features_follow_report() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    shown text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM map_features
        WHERE cy = map_feature_cy(OLD.lat) AND cx = map_feature_cx(OLD.lon) AND id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.hidden = 0 THEN
        shown := json_build_object(
            'created_at', NEW.created_at, 'updated_at', NEW.updated_at,
            'address', coalesce(NEW.address_string, NEW.address),
            'description', coalesce(NEW.public_description, NEW.description),
            'reporter_name', CASE WHEN NEW.show_name <> 0 THEN NEW.reporter_name END,
            'supports', NEW.supports)::text;
        INSERT INTO map_features VALUES (
            map_feature_cy(NEW.lat), map_feature_cx(NEW.lon), NEW.id, NEW.lon, NEW.lat,
            NEW.created_at, NEW.status, NEW.category_id, NEW.service_id,
            '{"type":"Feature","id":' || NEW.id || ',"geometry":'
                || json_build_object('type', 'Point',
                                     'coordinates', json_build_array(NEW.lon, NEW.lat))::text
                || ',"properties":{"id":' || NEW.id || ',',
            map_feature_thumb(NEW.id),
            substr(shown, 2, length(shown) - 2));
    END IF;
    RETURN NULL;
END
$$;

-- Three triggers named as SQLite's, one function.
CREATE TRIGGER reports_features_insert AFTER INSERT ON reports
FOR EACH ROW EXECUTE FUNCTION map_features_follow_report();
CREATE TRIGGER reports_features_delete AFTER DELETE ON reports
FOR EACH ROW EXECUTE FUNCTION map_features_follow_report();
CREATE TRIGGER reports_features_update
AFTER UPDATE OF lon, lat, status, category_id, service_id, created_at, updated_at, address,
    address_string, description, public_description, show_name, reporter_name, supports,
    hidden
ON reports FOR EACH ROW EXECUTE FUNCTION map_features_follow_report();

-- A photo written: the thumbnail of its report (both reports, if it moved) is read again.
CREATE FUNCTION map_features_follow_photo() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE map_features f SET thumb = map_feature_thumb(OLD.report_id)
        FROM reports r
        WHERE r.id = OLD.report_id AND f.cy = map_feature_cy(r.lat)
          AND f.cx = map_feature_cx(r.lon) AND f.id = r.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE map_features f SET thumb = map_feature_thumb(NEW.report_id)
        FROM reports r
        WHERE r.id = NEW.report_id AND f.cy = map_feature_cy(r.lat)
          AND f.cx = map_feature_cx(r.lon) AND f.id = r.id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER photos_features_insert AFTER INSERT ON photos
FOR EACH ROW EXECUTE FUNCTION map_features_follow_photo();
CREATE TRIGGER photos_features_delete AFTER DELETE ON photos
FOR EACH ROW EXECUTE FUNCTION map_features_follow_photo();
CREATE TRIGGER photos_features_update AFTER UPDATE OF report_id, position, thumb_name, hidden
ON photos FOR EACH ROW EXECUTE FUNCTION map_features_follow_photo();

-- The reports already stored, in key order.
INSERT INTO map_features
SELECT map_feature_cy(r.lat), map_feature_cx(r.lon), r.id, r.lon, r.lat, r.created_at,
       r.status, r.category_id, r.service_id,
       '{"type":"Feature","id":' || r.id || ',"geometry":'
           || json_build_object('type', 'Point',
                                'coordinates', json_build_array(r.lon, r.lat))::text
           || ',"properties":{"id":' || r.id || ',',
       map_feature_thumb(r.id),
       substr(s.shown, 2, length(s.shown) - 2)
FROM reports r
CROSS JOIN LATERAL (SELECT json_build_object(
    'created_at', r.created_at, 'updated_at', r.updated_at,
    'address', coalesce(r.address_string, r.address),
    'description', coalesce(r.public_description, r.description),
    'reporter_name', CASE WHEN r.show_name <> 0 THEN r.reporter_name END,
    'supports', r.supports)::text AS shown) s
WHERE r.hidden = 0
ORDER BY 1, 2, 3;
