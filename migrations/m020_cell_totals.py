"""Per-cell totals of public reports, whatever their status, category or service.

``report_cells`` splits each grid cell by status, category and service so filtered maps
read counts instead of rows; an unfiltered map (the usual first view of the whole city)
then sums about twenty rows per cell. ``report_cell_totals`` keeps that sum, updated by
triggers on the same writes (only a move or a hide changes it), so the whole city's clusters
are read from one row per cell.
"""

TOTAL_COLUMNS = "level, cx, cy"


def _total_upsert(row, sign):
    """SQL adding (sign=+1) or removing (sign=-1) the report ``row`` at every level."""
    return f"""
        INSERT INTO report_cell_totals ({TOTAL_COLUMNS}, n, sum_lon, sum_lat)
        SELECT level, CAST(({row}.lon + 180) / size AS INTEGER),
               CAST(({row}.lat + 90) / size AS INTEGER),
               {sign}, {sign} * {row}.lon, {sign} * {row}.lat
        FROM report_cell_levels WHERE true
        ON CONFLICT ({TOTAL_COLUMNS}) DO UPDATE SET
            n = n + excluded.n,
            sum_lon = sum_lon + excluded.sum_lon,
            sum_lat = sum_lat + excluded.sum_lat;
    """


STATEMENTS = [
    f"""CREATE TABLE report_cell_totals (
        level INTEGER NOT NULL, cx INTEGER NOT NULL, cy INTEGER NOT NULL,
        n INTEGER NOT NULL, sum_lon REAL NOT NULL, sum_lat REAL NOT NULL,
        PRIMARY KEY ({TOTAL_COLUMNS})
    ) WITHOUT ROWID""",
    f"""INSERT INTO report_cell_totals ({TOTAL_COLUMNS}, n, sum_lon, sum_lat)
        SELECT level, cx, cy, sum(n), sum(sum_lon), sum(sum_lat) FROM report_cells
        GROUP BY level, cx, cy""",
    f"""CREATE TRIGGER reports_cell_totals_insert AFTER INSERT ON reports BEGIN
        {_total_upsert("NEW", "(1 - NEW.hidden)")}
    END""",
    f"""CREATE TRIGGER reports_cell_totals_delete AFTER DELETE ON reports BEGIN
        {_total_upsert("OLD", "-(1 - OLD.hidden)")}
    END""",
    f"""CREATE TRIGGER reports_cell_totals_update AFTER UPDATE OF lon, lat, hidden ON reports
    BEGIN
        {_total_upsert("OLD", "-(1 - OLD.hidden)")}
        {_total_upsert("NEW", "(1 - NEW.hidden)")}
    END""",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
