-- PostgreSQL twin of m019_map_data_version.py: a version number of everything the public
-- map shows, for the map API's ETag, bumped once per row written (as SQLite's row triggers
-- do) on reports, photos, categories, services and name_translations.
--
-- Every write to those tables updates this one row, so such transactions queue on its lock
-- until they commit.

CREATE TABLE map_data_version (n bigint NOT NULL);
INSERT INTO map_data_version VALUES (1);

CREATE FUNCTION map_data_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE map_data_version SET n = n + 1;
    RETURN NULL;
END
$$;

-- Reports inserted are counted once per statement (the same number: one per row), so a bulk
-- insert updates the row once instead of leaving one dead version per report.
CREATE FUNCTION map_data_version_bump_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE map_data_version SET n = n + (SELECT count(*) FROM inserted);
    RETURN NULL;
END
$$;

CREATE TRIGGER reports_map_version_insert AFTER INSERT ON reports
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION map_data_version_bump_inserted();
CREATE TRIGGER reports_map_version_update AFTER UPDATE ON reports
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER reports_map_version_delete AFTER DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER photos_map_version_insert AFTER INSERT ON photos
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER photos_map_version_update AFTER UPDATE ON photos
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER photos_map_version_delete AFTER DELETE ON photos
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER categories_map_version_insert AFTER INSERT ON categories
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER categories_map_version_update AFTER UPDATE ON categories
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER categories_map_version_delete AFTER DELETE ON categories
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER services_map_version_insert AFTER INSERT ON services
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER services_map_version_update AFTER UPDATE ON services
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER services_map_version_delete AFTER DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER name_translations_map_version_insert AFTER INSERT ON name_translations
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER name_translations_map_version_update AFTER UPDATE ON name_translations
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
CREATE TRIGGER name_translations_map_version_delete AFTER DELETE ON name_translations
    FOR EACH ROW EXECUTE FUNCTION map_data_version_bump();
