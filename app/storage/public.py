"""Public reads of reports: viewport, clusters, lists, feeds and exports.

Only public fields are ever selected: never the e-mail, and the name only when the reporter
chose to show it.
"""

import math
from dataclasses import dataclass

from app.storage import dialect
from app.storage.targets import fix_due_column

PUBLIC_COLUMNS = """
    r.id, r.lon, r.lat, r.status, r.created_at, r.updated_at,
    coalesce(r.public_description, r.description) AS description,
    CASE WHEN r.show_name = 1 THEN r.reporter_name END AS reporter_name,
    c.code AS category_code, c.name AS category, s.code AS service_code, s.name AS service,
    (SELECT p.thumb_name FROM photos p WHERE p.report_id = r.id AND p.hidden = 0
     ORDER BY p.position LIMIT 1) AS thumb_name,
    (SELECT p.display_name FROM photos p WHERE p.report_id = r.id AND p.hidden = 0
     ORDER BY p.position LIMIT 1) AS photo_name,
    r.media_url, s.target_days, r.supports, coalesce(r.address_string, r.address) AS address,
    r.address_string, r.address_id, r.media_urls
"""


def public_columns(db):
    """PUBLIC_COLUMNS and the fix due time (whose date arithmetic is the engine's)."""
    return f"{PUBLIC_COLUMNS}, {fix_due_column(db)}"
JOINS = """
    JOIN categories c ON c.id = r.category_id
    JOIN services s ON s.id = r.service_id
"""


@dataclass(frozen=True)
class ReportQuery:
    """Which reports: a bbox (min_lon, min_lat, max_lon, max_lat) and the public filters.

    ``since`` is an inclusive and ``until`` an exclusive bound on the creation time, both
    ISO 8601 strings in UTC (stored times are UTC, so they compare as text).
    """

    bbox: tuple | None = None
    statuses: tuple = ()
    categories: tuple = ()
    services: tuple = ()
    since: str | None = None
    until: str | None = None
    ids: tuple = ()
    near: tuple | None = None  # (lon, lat, radius in metres)

    @property
    def has_dates(self):
        return self.since is not None or self.until is not None


def _in_list(column, values, params):
    params.extend(values)
    return f"{column} IN ({','.join('?' * len(values))})"


def _status_category_service(query, status_column, params):
    """The filters that reports and pre-aggregated cells share (categories c, services s)."""
    clauses = []
    for column, values in ((status_column, query.statuses), ("c.code", query.categories),
                           ("s.code", query.services)):
        if values:
            clauses.append(_in_list(column, values, params))
    return clauses


def _id_place_time(db, query, alias, params):
    """The clauses of ``query``'s ids, radius and dates over the rows ``alias`` (reports
    ``r`` or map_features ``m``, which share these columns); their values go to
    ``params``."""
    clauses = []
    if query.ids:
        clauses.append(_in_list(f"{alias}.id", query.ids, params))
    if query.near is not None:
        clauses.append(dialect.within_metres(db, f"{alias}.lon", f"{alias}.lat"))
        params.extend(query.near)
    if query.since is not None:
        clauses.append(f"{alias}.created_at >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append(f"{alias}.created_at < ?")
        params.append(query.until)
    return clauses


def _where(db, query):
    """The FROM and WHERE clauses of a query (the reports ``r`` with their categories ``c``
    and services ``s``), and their parameters."""
    params, clauses = [], ["r.hidden = 0"]
    source = "reports r"
    if query.bbox is not None:
        # The spatial index rounds its bounds outwards: a superset, then exact checks.
        source, in_index, in_index_params = dialect.reports_in_box(db, query.bbox)
        min_lon, min_lat, max_lon, max_lat = query.bbox
        clauses += [in_index, "r.lon BETWEEN ? AND ?", "r.lat BETWEEN ? AND ?"]
        params += [*in_index_params, min_lon, max_lon, min_lat, max_lat]
    clauses += _status_category_service(query, "r.status", params)
    clauses += _id_place_time(db, query, "r", params)
    where = " AND ".join(clauses)
    return f"FROM {source} {JOINS} WHERE {where}", params


#: Grid cells per degree of ``map_features`` (migrations/m023_map_features.py).
MAP_CELLS_PER_DEGREE = 512


def _cell_ranges(bbox):
    """The rows (cy) and columns (cx) of map_features' grid a bbox touches, computed as the
    migration's triggers compute a report's cell, so every report inside is in range."""
    min_lon, min_lat, max_lon, max_lat = bbox
    return [int((min_lat + 90) * MAP_CELLS_PER_DEGREE),
            int((max_lat + 90) * MAP_CELLS_PER_DEGREE),
            int((min_lon + 180) * MAP_CELLS_PER_DEGREE),
            int((max_lon + 180) * MAP_CELLS_PER_DEGREE)]


def _features_where(db, query, params):
    """The WHERE clause of ``query`` over map_features ``m`` (public reports only)."""
    min_lon, min_lat, max_lon, max_lat = query.bbox
    clauses = ["m.lon BETWEEN ? AND ?", "m.lat BETWEEN ? AND ?"]
    params += [min_lon, max_lon, min_lat, max_lat]
    for column, table, values in (("m.category_id", "categories", query.categories),
                                  ("m.service_id", "services", query.services)):
        if values:
            clauses.append(f"{column} IN (SELECT id FROM {table} WHERE "
                           f"{_in_list('code', values, params)})")
    if query.statuses:
        clauses.append(_in_list("m.status", query.statuses, params))
    clauses += _id_place_time(db, query, "m", params)
    return " AND ".join(clauses)


def _names_sql(text, params):
    """The words a feature takes from the catalogue and the reader, as JSON fragments:
    ``statuses`` (code), ``categories_text`` and ``services_text`` (id), names in
    ``text.locale``; ``link`` the report URL's JSON string up to the id. Read once per view
    (:func:`_fragments`); a feature whose key was not among them looks it up here, by
    index: each key keeps its column's type, which SQLite needs to index it."""
    params.extend(value for pair in text.status_names.items() for value in pair)
    params.extend([text.locale, text.locale, text.report_prefix, text.report_prefix])
    statuses = ", ".join(["(?, ?)"] * len(text.status_names))
    return f"""
    statuses(code, text) AS MATERIALIZED (
        SELECT CAST(column1 AS TEXT), '"status":' || json_quote(column1)
                                      || ',"status_name":' || json_quote(column2) || ','
        FROM (VALUES {statuses}) AS v),
    categories_text(id, text) AS MATERIALIZED (
        SELECT c.id, '"category":' || json_quote(c.code)
                     || ',"category_name":' || json_quote(coalesce(t.name, c.name)) || ','
        FROM categories c LEFT JOIN name_translations t
            ON t.kind = 'category' AND t.code = c.code AND t.locale = ?),
    services_text(id, text) AS MATERIALIZED (
        SELECT s.id, '"service":' || json_quote(s.code)
                     || ',"service_name":' || json_quote(coalesce(t.name, s.name)) || ','
        FROM services s LEFT JOIN name_translations t
            ON t.kind = 'service' AND t.code = s.code AND t.locale = ?),
    link(head) AS MATERIALIZED (
        SELECT ',"url":' || substr(json_quote(?), 1, length(json_quote(?)) - 1))"""


def _fragments(db, text):
    """The view's fragments, written by the database once: {kind: [(key, JSON text)]} for
    statuses ('s'), categories ('c') and services ('v'), and the link's head ('u'). A
    status's key (text) and a catalogue id (integer) come in columns of their own: each
    keeps its type, and PostgreSQL unites no text with integers."""
    params = []
    names = _names_sql(text, params)
    found = {"s": [], "c": [], "v": [], "u": []}
    for kind, code, number, fragment in db.execute(f"""
            WITH {names}
            SELECT 's', code, NULL, text FROM statuses UNION ALL
            SELECT 'c', NULL, id, text FROM categories_text UNION ALL
            SELECT 'v', NULL, id, text FROM services_text UNION ALL
            SELECT 'u', NULL, NULL, head FROM link""", params).fetchall():
        found[kind].append((number if code is None else code, fragment))
    return found


def _case(column, pairs, otherwise, params):
    """``column``'s fragment among ``pairs`` (key, text) as a CASE over bound values, which
    SQLite tries in turn: cheaper per feature than an index lookup for a catalogue's size;
    ``otherwise`` (SQL) for a key the list lacks (one added since it was read)."""
    if not pairs:
        return otherwise
    params.extend(value for pair in pairs for value in pair)
    return f"CASE {column} {'WHEN ? THEN ? ' * len(pairs)}ELSE {otherwise} END"


def features_in_view(db, query, limit, text):
    """Up to ``limit`` public reports matching ``query`` (newest first), as the UTF-8 bytes
    of a JSON array of GeoJSON Features: the fields of the exports' ``report_properties``,
    names in ``text.locale``, links completed from ``text.report_prefix`` and
    ``text.photo_prefix``.

    The reports come from map_features (m023): one run of neighbouring rows for each row
    of grid cells the bbox touches (``ys``, kept within the rows that hold reports). They
    are sorted with no LIMIT of their own, which lets SQLite sort in memory (an ORDER BY
    with a LIMIT keeps a B-tree, about twice the cost); the limit is applied after. Each
    feature is then its stored head and tail with the view's fragments between: names
    and link, read first (:func:`_fragments`) and bound as values."""
    fragments = _fragments(db, text)
    min_cy, max_cy, min_cx, max_cx = _cell_ranges(query.bbox)
    params = [min_cy, max_cy]
    names = _names_sql(text, params)
    category = _case("o.category_id", fragments["c"],
                     "(SELECT text FROM categories_text WHERE id = o.category_id)", params)
    status = _case("o.status", fragments["s"], """coalesce(
        (SELECT text FROM statuses WHERE code = o.status),
        '"status":' || json_quote(o.status) || ',"status_name":' || json_quote(o.status) || ',')
        """, params)
    service = _case("o.service_id", fragments["v"],
                    "(SELECT text FROM services_text WHERE id = o.service_id)", params)
    params += [fragments["u"][0][1], text.photo_prefix, min_cx, max_cx]
    where = _features_where(db, query, params)
    params.append(limit)
    return dialect.json_array_bytes(db, f"""
        WITH RECURSIVE {_grid_rows(db)},
        {names}
        SELECT o.head || {category} || {status} || {service}
               || o.tail || ? || o.id || '","thumbnail":'
               || CASE WHEN o.thumb IS NULL THEN 'null' ELSE json_quote(? || o.thumb) END
               || '}}}}' AS f
        FROM (SELECT m.id, m.status, m.category_id, m.service_id, m.head, m.tail, m.thumb
              FROM ys CROSS JOIN map_features m
              WHERE m.cy = ys.y AND m.cx BETWEEN ? AND ? AND {where}
              ORDER BY m.created_at DESC, m.id DESC) AS o
        LIMIT ?
    """, params)


def _grid_rows(db):
    """The recursive CTE ``ys(y)``: the rows of map_features' grid from the first ``?`` to
    the second, kept within the rows that hold reports. One short index range per row
    reads a view's reports; one range over the rows would read every column of them."""
    return f"""ys(y) AS (
            SELECT {dialect.larger(db, "?", "(SELECT min(cy) FROM map_features)")}
            UNION ALL
            SELECT y + 1 FROM ys
            WHERE y < {dialect.smaller(db, "?", "(SELECT max(cy) FROM map_features)")})"""


def put_map_in_grid_order(db):
    """Rewrite map_features in grid order where the engine lets it drift (see
    :func:`dialect.grid_order_statements`); whether there was anything to do."""
    statements = dialect.grid_order_statements(db)
    for statement in statements:
        db.execute(statement)
    return bool(statements)


def spatial_index_count(db, bbox, cap):
    """How many reports the spatial index alone finds in ``bbox``, counting no further than
    ``cap`` (a superset of the public matches), or None where the engine cannot count them
    without reading rows (:func:`dialect.index_only_box`): :func:`more_than` then settles it."""
    index = dialect.index_only_box(db, bbox)
    if index is None:
        return None
    source, in_index, params = index
    return db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {in_index} "
                      "LIMIT ?) AS found", [*params, cap]).fetchone()[0]


def more_than(db, query, limit):
    """Whether more than ``limit`` public reports match ``query``, read from map_features
    (the rows the answer itself reads, no more than ``limit + 1`` of them)."""
    min_cy, max_cy, min_cx, max_cx = _cell_ranges(query.bbox)
    params = [min_cy, max_cy, min_cx, max_cx]
    where = _features_where(db, query, params)
    found = db.execute(f"""
        WITH RECURSIVE {_grid_rows(db)}
        SELECT count(*) FROM (
            SELECT 1 FROM ys CROSS JOIN map_features m
            WHERE m.cy = ys.y AND m.cx BETWEEN ? AND ? AND {where} LIMIT ?) AS found
    """, [*params, limit + 1])
    return found.fetchone()[0] > limit


def count_in_whole_cells(db, query, level, size):
    """The public reports matching ``query``'s codes in the pre-aggregated cells of
    ``level`` that lie wholly inside its bbox: a subset of the matches, read from cells."""
    min_lon, min_lat, max_lon, max_lat = query.bbox
    params = [level, math.ceil((min_lon + 180) / size + 1e-9),
              math.floor((max_lon + 180) / size - 1e-9) - 1,
              math.ceil((min_lat + 90) / size + 1e-9), math.floor((max_lat + 90) / size - 1e-9) - 1]
    source, clauses = _cells(query, params)
    return db.execute(f"SELECT coalesce(sum(k.n), 0) FROM {source} WHERE {clauses}",
                      params).fetchone()[0]


def _cells(query, params):
    """The cell table a query reads (FROM and WHERE, after level and cx/cy ranges in
    ``params``): the totals per cell when it filters nothing, else the counts split by
    status, category and service, joined with the catalogue only to filter by its codes."""
    clauses = ["k.level = ?", "k.cx BETWEEN ? AND ?", "k.cy BETWEEN ? AND ?"]
    if not (query.statuses or query.categories or query.services):
        return "report_cell_totals k", " AND ".join(clauses)
    clauses += _status_category_service(query, "k.status", params)
    joins = "".join(join for codes, join in (
        (query.categories, "JOIN categories c ON c.id = k.category_id "),
        (query.services, "JOIN services s ON s.id = k.service_id ")) if codes)
    return f"report_cells k {joins}", " AND ".join(clauses)


#: A cluster (a row of count, lon, lat) as GeoJSON Feature text, written by the database.
#: Joined as text: both engines write a number the way their JSON functions would, and
#: PostgreSQL's json_build_object costs twice as much.
CLUSTER_JSON = """'{"type":"Feature","geometry":{"type":"Point","coordinates":['
    || lon || ',' || lat || ']},"properties":{"cluster":true,"count":' || count || '}}'"""


def nearest(db, query, lon, lat, limit):
    """Matching reports with their distance in metres to (lon, lat), nearest first."""
    sql, params = _where(db, query)
    return list(db.query(
        f"SELECT {public_columns(db)}, {dialect.distance_metres(db, 'r.lon', 'r.lat')} "
        f"AS distance_m {sql} "
        "ORDER BY distance_m LIMIT ?", [lon, lat, *params, limit]))


def count_reports(db, query):
    sql, params = _where(db, query)
    return db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]


def reports_page(db, query, offset, limit, order="r.created_at DESC, r.id DESC"):
    sql, params = _where(db, query)
    return list(db.query(
        f"SELECT {public_columns(db)} {sql} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ))


def recently_updated(db, query, limit):
    return reports_page(db, query, 0, limit, order="r.updated_at DESC, r.id DESC")


def iter_reports(db, query):
    """Every matching public report, oldest first, read lazily (for streamed exports)."""
    sql, params = _where(db, query)
    cursor = db.conn.execute(f"SELECT {public_columns(db)} {sql} ORDER BY r.id", params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def cell_levels(db):
    """(level, size in degrees), finest last. Read once per connection: only migration m002
    writes them, and every map view asks."""
    levels = getattr(db, "map_cell_levels", None)
    if levels is None:
        levels = db.map_cell_levels = [tuple(row) for row in db.execute(
            "SELECT level, size FROM report_cell_levels ORDER BY size DESC")]
    return levels


def cluster_features_from_cells(db, query, level, size):
    """Counts and centroids per grid cell, read from the pre-aggregated tables, as the text
    of a JSON array of GeoJSON Features."""
    min_lon, min_lat, max_lon, max_lat = query.bbox
    params = [level, int((min_lon + 180) // size), int((max_lon + 180) // size),
              int((min_lat + 90) // size), int((max_lat + 90) // size)]
    source, clauses = _cells(query, params)
    return dialect.json_array_bytes(db, f"""
        SELECT {CLUSTER_JSON} AS f FROM (
            SELECT sum(k.n) AS count, sum(k.sum_lon) / sum(k.n) AS lon,
                   sum(k.sum_lat) / sum(k.n) AS lat
            FROM {source} WHERE {clauses}
            GROUP BY k.cx, k.cy
            HAVING sum(k.n) > 0) AS cells
    """, params)


def cluster_features_from_rows(db, query, size):
    """Counts and centroids per grid cell of ``size`` degrees, aggregated from the rows, as
    the text of a JSON array of GeoJSON Features."""
    sql, params = _where(db, query)
    return dialect.json_array_bytes(db, f"""
        SELECT {CLUSTER_JSON} AS f FROM (
            SELECT count(*) AS count, avg(r.lon) AS lon, avg(r.lat) AS lat {sql}
            GROUP BY {dialect.integer_part(db, "(r.lon + 180) / ?")},
                     {dialect.integer_part(db, "(r.lat + 90) / ?")}) AS cells
    """, [*params, size, size])


def known_codes(db, table):
    return {row[0] for row in db.execute(f"SELECT code FROM [{table}]")}


def latest_public_notes(db, report_ids):
    """The newest public note of each report that has one: {report id: note}."""
    if not report_ids:
        return {}
    params = list(report_ids)
    return dict(db.execute(f"""
        SELECT e.report_id, e.public_note FROM report_events e
        WHERE e.report_id IN ({','.join('?' * len(params))}) AND e.public_note IS NOT NULL
          AND e.id = (SELECT max(id) FROM report_events x
                      WHERE x.report_id = e.report_id AND x.public_note IS NOT NULL)
    """, params))


#: Events that take something out of public view; an export written before one is stale.
WITHDRAWING_EVENTS = ("hidden", "redacted", "photo_hidden", "contact_erased")


def withdrawn_since(db, moment):
    """Whether a report was hidden, redacted, lost a photo or its reporter's contact data at
    or after ``moment`` (an ISO 8601 time in UTC, like the events' own)."""
    kinds = ",".join("?" * len(WITHDRAWING_EVENTS))
    return db.execute(f"SELECT 1 FROM report_events WHERE at >= ? AND kind IN ({kinds}) LIMIT 1",
                      [moment, *WITHDRAWING_EVENTS]).fetchone() is not None


def map_data_version(db):
    """A number that changes whenever anything a map feature shows may have changed."""
    return db.execute("SELECT n FROM map_data_version").fetchone()[0]
