"""Indexes for the public map: an R*Tree of report positions and pre-aggregated cell counts.

The R*Tree answers "which reports are in this viewport" without scanning; it stores 32-bit
float bounds, so queries widen the box slightly and then check the exact coordinates.
``report_cells`` keeps, for a few grid sizes, the count and coordinate sums of reports per
cell, status, category and service, updated by triggers on every write, so a zoomed-out map
reads a few thousand rows instead of a million.
"""

#: Cell sizes in degrees, one per zoom pair (90 / 2**zoom for zooms 2, 4, ..., 12).
LEVELS = [(level, 90.0 / 2**zoom) for level, zoom in enumerate(range(2, 14, 2))]

CELL_COLUMNS = "level, cx, cy, status, category_id, service_id"


def _cell_upsert(row, sign):
    """SQL adding (sign=+1) or removing (sign=-1) the report ``row`` (NEW or OLD) at all levels."""
    return f"""
        INSERT INTO report_cells ({CELL_COLUMNS}, n, sum_lon, sum_lat)
        SELECT level, CAST(({row}.lon + 180) / size AS INTEGER),
               CAST(({row}.lat + 90) / size AS INTEGER), {row}.status, {row}.category_id,
               {row}.service_id, {sign}, {sign} * {row}.lon, {sign} * {row}.lat
        FROM report_cell_levels WHERE true
        ON CONFLICT ({CELL_COLUMNS}) DO UPDATE SET
            n = n + excluded.n,
            sum_lon = sum_lon + excluded.sum_lon,
            sum_lat = sum_lat + excluded.sum_lat;
    """


STATEMENTS = [
    "CREATE VIRTUAL TABLE reports_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat)",
    "CREATE TABLE report_cell_levels (level INTEGER PRIMARY KEY, size REAL NOT NULL)",
    f"""CREATE TABLE report_cells (
        level INTEGER NOT NULL, cx INTEGER NOT NULL, cy INTEGER NOT NULL,
        status TEXT NOT NULL, category_id INTEGER NOT NULL, service_id INTEGER NOT NULL,
        n INTEGER NOT NULL, sum_lon REAL NOT NULL, sum_lat REAL NOT NULL,
        PRIMARY KEY ({CELL_COLUMNS})
    ) WITHOUT ROWID""",
    f"""CREATE TRIGGER reports_map_insert AFTER INSERT ON reports BEGIN
        INSERT INTO reports_rtree VALUES (NEW.id, NEW.lon, NEW.lon, NEW.lat, NEW.lat);
        {_cell_upsert("NEW", 1)}
    END""",
    f"""CREATE TRIGGER reports_map_delete AFTER DELETE ON reports BEGIN
        DELETE FROM reports_rtree WHERE id = OLD.id;
        {_cell_upsert("OLD", -1)}
    END""",
    f"""CREATE TRIGGER reports_map_update
        AFTER UPDATE OF lon, lat, status, category_id, service_id ON reports BEGIN
        UPDATE reports_rtree SET min_lon = NEW.lon, max_lon = NEW.lon, min_lat = NEW.lat,
            max_lat = NEW.lat WHERE id = NEW.id;
        {_cell_upsert("OLD", -1)}
        {_cell_upsert("NEW", 1)}
    END""",
    "CREATE INDEX reports_updated ON reports(updated_at)",
    "CREATE INDEX reports_category ON reports(category_id)",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
    db["report_cell_levels"].insert_all({"level": level, "size": size} for level, size in LEVELS)
    db.execute("INSERT INTO reports_rtree SELECT id, lon, lon, lat, lat FROM reports")
    db.execute(f"""
        INSERT INTO report_cells ({CELL_COLUMNS}, n, sum_lon, sum_lat)
        SELECT l.level, CAST((r.lon + 180) / l.size AS INTEGER),
               CAST((r.lat + 90) / l.size AS INTEGER), r.status, r.category_id, r.service_id,
               count(*), sum(r.lon), sum(r.lat)
        FROM reports r, report_cell_levels l
        GROUP BY 1, 2, 3, 4, 5, 6
    """)
