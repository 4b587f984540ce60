"""Staff accounts, and what dispatchers do to reports: duplicates, moderation, redaction.

Hidden reports leave the public map, so the cell-count triggers are recreated to count only
public reports and to follow a report being hidden or shown again.
"""

from migrations.m002_map_index import _cell_upsert

STATEMENTS = [
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher')),
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE user_services (
        user_id INTEGER NOT NULL REFERENCES users(id),
        service_id INTEGER NOT NULL REFERENCES services(id),
        PRIMARY KEY (user_id, service_id)
    )""",
    "ALTER TABLE reports ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE reports ADD COLUMN public_description TEXT",
    "ALTER TABLE reports ADD COLUMN duplicate_of INTEGER REFERENCES reports(id)",
    "ALTER TABLE photos ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX reports_duplicate_of ON reports(duplicate_of)",
    "DROP TRIGGER reports_map_insert",
    "DROP TRIGGER reports_map_delete",
    "DROP TRIGGER reports_map_update",
    f"""CREATE TRIGGER reports_map_insert AFTER INSERT ON reports BEGIN
        INSERT INTO reports_rtree VALUES (NEW.id, NEW.lon, NEW.lon, NEW.lat, NEW.lat);
        {_cell_upsert("NEW", "(1 - NEW.hidden)")}
    END""",
    f"""CREATE TRIGGER reports_map_delete AFTER DELETE ON reports BEGIN
        DELETE FROM reports_rtree WHERE id = OLD.id;
        {_cell_upsert("OLD", "-(1 - OLD.hidden)")}
    END""",
    f"""CREATE TRIGGER reports_map_update
        AFTER UPDATE OF lon, lat, status, category_id, service_id, hidden ON reports BEGIN
        UPDATE reports_rtree SET min_lon = NEW.lon, max_lon = NEW.lon, min_lat = NEW.lat,
            max_lat = NEW.lat WHERE id = NEW.id;
        {_cell_upsert("OLD", "-(1 - OLD.hidden)")}
        {_cell_upsert("NEW", "(1 - NEW.hidden)")}
    END""",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
