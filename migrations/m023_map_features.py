"""The public map's features stored in spatial order, their fixed text written once.

A neighbourhood view used to fetch about 1,700 rows of ``reports``, each on its own page
(rows follow arrival, not place), and have SQLite's JSON functions write every feature's
text on every view. ``map_features`` holds one row per public report, keyed by its cell of
a fine grid (``CELLS_PER_DEGREE``, rows of cells first), so a view reads one short run of
neighbouring rows per row of cells; and it holds the parts of the feature's text that do
not depend on the reader (``head``: id and geometry; ``tail``: dates, address, description,
the name when shown, supports), written by the same JSON functions when the report is
written, and the file name of its thumbnail (``thumb``). The names (in the reader's
language) and the links are added when the view is read. Triggers on reports and photos
keep the copy: hidden reports have no row.
"""

#: Grid cells per degree: about 200 m by 150 m in Los Angeles; app.storage.public reads
#: the same grid (MAP_CELLS_PER_DEGREE).
CELLS_PER_DEGREE = 512

#: The report columns a feature shows: an update of any of them rewrites its row.
SHOWN = ("lon, lat, status, category_id, service_id, created_at, updated_at, address, "
         "address_string, description, public_description, show_name, reporter_name, "
         "supports, hidden")


def _cy(row):
    """The row of grid cells of report ``row`` (NEW, OLD or r), as SQL."""
    return f"CAST(({row}.lat + 90) * {CELLS_PER_DEGREE} AS INTEGER)"


def _cx(row):
    """The column of grid cells of report ``row``, as SQL."""
    return f"CAST(({row}.lon + 180) * {CELLS_PER_DEGREE} AS INTEGER)"


def _values(row):
    """The map_features row of report ``row`` (NEW, or r when copying the table), as SQL.
    ``tail`` is a JSON object without its braces: it starts with a key and ends with
    ``supports``, an integer, so the one brace at each end is all that is trimmed."""
    return f"""{_cy(row)}, {_cx(row)}, {row}.id, {row}.lon, {row}.lat, {row}.created_at,
        {row}.status, {row}.category_id, {row}.service_id,
        '{{"type":"Feature","id":' || {row}.id || ',"geometry":'
        || json_object('type', 'Point', 'coordinates', json_array({row}.lon, {row}.lat))
        || ',"properties":{{"id":' || {row}.id || ',',
        ({_thumb(f"{row}.id")}),
        rtrim(ltrim(json_object(
            'created_at', {row}.created_at, 'updated_at', {row}.updated_at,
            'address', coalesce({row}.address_string, {row}.address),
            'description', coalesce({row}.public_description, {row}.description),
            'reporter_name', CASE WHEN {row}.show_name THEN {row}.reporter_name END,
            'supports', {row}.supports), '{{'), '}}')"""


def _thumb(report_id):
    """The thumbnail file of the report's first visible photo (NULL if none), as SQL."""
    return (f"SELECT p.thumb_name FROM photos p WHERE p.report_id = {report_id} "
            "AND NOT p.hidden ORDER BY p.position LIMIT 1")


def _refresh_thumb(report_id):
    """SQL updating the thumbnail of the report ``report_id`` after a change of photos."""
    return f"""UPDATE map_features SET thumb = ({_thumb(report_id)})
        WHERE (cy, cx, id) = (SELECT {_cy('r')}, {_cx('r')}, r.id FROM reports r
                              WHERE r.id = {report_id});"""


def _insert(row):
    """SQL storing the report ``row`` (NEW) unless it is hidden."""
    return f"INSERT INTO map_features SELECT {_values(row)} WHERE NOT {row}.hidden;"


def _delete(row):
    """SQL removing the row of report ``row`` (OLD), found by its key."""
    return (f"DELETE FROM map_features WHERE cy = {_cy(row)} AND cx = {_cx(row)} "
            f"AND id = {row}.id;")


STATEMENTS = [
    """CREATE TABLE map_features (
        cy INTEGER NOT NULL, cx INTEGER NOT NULL, id INTEGER NOT NULL,
        lon REAL NOT NULL, lat REAL NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL,
        category_id INTEGER NOT NULL, service_id INTEGER NOT NULL,
        head TEXT NOT NULL, thumb TEXT, tail TEXT NOT NULL,
        PRIMARY KEY (cy, cx, id)
    ) WITHOUT ROWID""",
    f"CREATE TRIGGER reports_features_insert AFTER INSERT ON reports BEGIN {_insert('NEW')} END",
    f"CREATE TRIGGER reports_features_delete AFTER DELETE ON reports BEGIN {_delete('OLD')} END",
    f"""CREATE TRIGGER reports_features_update AFTER UPDATE OF {SHOWN} ON reports BEGIN
        {_delete('OLD')}
        {_insert('NEW')}
    END""",
    f"""CREATE TRIGGER photos_features_insert AFTER INSERT ON photos BEGIN
        {_refresh_thumb('NEW.report_id')}
    END""",
    f"""CREATE TRIGGER photos_features_delete AFTER DELETE ON photos BEGIN
        {_refresh_thumb('OLD.report_id')}
    END""",
    f"""CREATE TRIGGER photos_features_update
        AFTER UPDATE OF report_id, position, thumb_name, hidden ON photos BEGIN
        {_refresh_thumb('OLD.report_id')}
        {_refresh_thumb('NEW.report_id')}
    END""",
]


#: The reports already stored, copied in key order.
COPY = (f"INSERT INTO map_features SELECT {_values('r')} FROM reports r WHERE NOT r.hidden "
        "ORDER BY 1, 2, 3")


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
    db.execute(COPY)
