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


def _where(db, query, catalogue=True):
    """The FROM and WHERE clauses of a query, and their parameters. Without ``catalogue``
    the categories (c) and services (s) are joined only when filtering by their codes."""
    params, clauses = [], ["r.hidden = 0"]
    source = "reports r"
    if query.bbox is not None:
        # The spatial index rounds its bounds outwards: a superset, then exact checks.
        source, in_index, in_index_params = dialect.reports_in_box(db, query.bbox)
        min_lon, min_lat, max_lon, max_lat = query.bbox
        clauses += [in_index, "r.lon BETWEEN ? AND ?", "r.lat BETWEEN ? AND ?"]
        params += [*in_index_params, min_lon, max_lon, min_lat, max_lat]
    clauses += _status_category_service(query, "r.status", params)
    if query.ids:
        clauses.append(_in_list("r.id", query.ids, params))
    if query.near is not None:
        lon, lat, radius = query.near
        clauses.append("distance_m(r.lon, r.lat, ?, ?) <= ?")
        params += [lon, lat, radius]
    if query.since is not None:
        clauses.append("r.created_at >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("r.created_at < ?")
        params.append(query.until)
    where = " AND ".join(clauses)
    joins = JOINS if catalogue or query.categories or query.services else ""
    return f"FROM {source} {joins} WHERE {where}", params


def _status_name_sql(status_names, params):
    """The status's name in the reader's language, as a CASE over the given names."""
    params.extend(value for pair in status_names.items() for value in pair)
    return f"CASE o.status {'WHEN ? THEN ? ' * len(status_names)}ELSE o.status END"


#: What a map feature shows of a report's own row, read once (and sorted) before the
#: feature's text is written.
FEATURE_COLUMNS = """
    r.id, r.lon, r.lat, r.status, r.category_id, r.service_id, r.created_at, r.updated_at,
    coalesce(r.address_string, r.address) AS address,
    coalesce(r.public_description, r.description) AS description,
    CASE WHEN r.show_name = 1 THEN r.reporter_name END AS reporter_name, r.supports
"""


def _feature_sql(db, text, params):
    """One public report (a row ``o`` of FEATURE_COLUMNS) as GeoJSON Feature text, built by
    the database (``json_object``): the fields of the exports' ``report_properties``, names in
    ``text.locale`` (joined as ``tc``/``ts``), links completed from ``text.report_prefix``
    and ``text.photo_prefix``."""
    status_name = _status_name_sql(text.status_names, params)
    params.extend([text.report_prefix, text.photo_prefix])
    obj, array = dialect.json_object(db), dialect.json_array(db)
    return f"""{obj}(
        'type', 'Feature', 'id', o.id,
        'geometry', {obj}('type', 'Point', 'coordinates', {array}(o.lon, o.lat)),
        'properties', {obj}(
            'id', o.id, 'category', c.code, 'category_name', coalesce(tc.name, c.name),
            'status', o.status, 'status_name', {status_name},
            'service', s.code, 'service_name', coalesce(ts.name, s.name),
            'created_at', o.created_at, 'updated_at', o.updated_at, 'address', o.address,
            'description', o.description, 'reporter_name', o.reporter_name,
            'supports', o.supports, 'url', ? || o.id,
            'thumbnail', (SELECT ? || p.thumb_name FROM photos p
                          WHERE p.report_id = o.id AND p.hidden = 0
                          ORDER BY p.position LIMIT 1)))"""


def _json_array(db, features_sql, params):
    """The rows of ``features_sql`` (one JSON text column ``f``, in order) as one JSON array
    text: the database joins them, so Python handles one string whatever the number of
    features."""
    found = db.execute(f"SELECT '[' || coalesce({dialect.joined_json(db, 'f')}, '') || ']' "
                       f"FROM ({features_sql}) AS features", params)
    return found.fetchone()[0]


def features_in_view(db, query, limit, text):
    """Up to ``limit`` public reports matching ``query`` (newest first), as the text of a
    JSON array of GeoJSON Features (see :func:`_feature_sql` for ``text``).

    The rows are chosen and sorted first, carrying only their own columns; the names and
    the text are added after, in that order (CROSS JOIN keeps the sorted rows outermost)."""
    params = []
    feature = _feature_sql(db, text, params)
    sql, where_params = _where(db, query, catalogue=False)
    return _json_array(db, f"""
        SELECT {feature} AS f
        FROM (SELECT {FEATURE_COLUMNS} {sql}
              ORDER BY r.created_at DESC, r.id DESC LIMIT ?) AS o
        CROSS JOIN categories c CROSS JOIN services s
        LEFT JOIN name_translations tc
            ON tc.kind = 'category' AND tc.code = c.code AND tc.locale = ?
        LEFT JOIN name_translations ts
            ON ts.kind = 'service' AND ts.code = s.code AND ts.locale = ?
        WHERE c.id = o.category_id AND s.id = o.service_id
        {dialect.order_after_joins(db, "o.created_at DESC, o.id DESC")}
    """, [*params, *where_params, limit, text.locale, text.locale])


def spatial_index_count(db, bbox, cap):
    """How many reports the spatial index holds in ``bbox``, counting no further than
    ``cap``: a superset of the public matches (hidden ones, filters and rounding aside)."""
    source, in_index, params = dialect.reports_in_box(db, bbox, rows=False)
    return db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {in_index} "
                      "LIMIT ?) AS found", [*params, cap]).fetchone()[0]


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


def _cluster_json(db):
    """A cluster (a row of count, lon, lat) as GeoJSON Feature text, built by the database."""
    obj, array = dialect.json_object(db), dialect.json_array(db)
    return f"""{obj}(
        'type', 'Feature', 'geometry', {obj}('type', 'Point', 'coordinates', {array}(lon, lat)),
        'properties', {obj}('cluster', json('true'), 'count', count))"""


def more_than(db, query, limit):
    """Whether more than ``limit`` reports match; stops reading at ``limit + 1``."""
    sql, params = _where(db, query, catalogue=False)
    found = db.execute(f"SELECT count(*) FROM (SELECT 1 {sql} LIMIT ?) AS found",
                       [*params, limit + 1])
    return found.fetchone()[0] > limit


def nearest(db, query, lon, lat, limit):
    """Matching reports with their distance in metres to (lon, lat), nearest first."""
    sql, params = _where(db, query)
    return list(db.query(
        f"SELECT {public_columns(db)}, distance_m(r.lon, r.lat, ?, ?) AS distance_m {sql} "
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
    """(level, size in degrees), finest last."""
    return [tuple(row) for row in db.execute("SELECT level, size FROM report_cell_levels "
                                             "ORDER BY size DESC")]


def cluster_features_from_cells(db, query, level, size):
    """Counts and centroids per grid cell, read from the pre-aggregated tables, as the text
    of a JSON array of GeoJSON Features."""
    min_lon, min_lat, max_lon, max_lat = query.bbox
    params = [level, int((min_lon + 180) // size), int((max_lon + 180) // size),
              int((min_lat + 90) // size), int((max_lat + 90) // size)]
    source, clauses = _cells(query, params)
    return _json_array(db, f"""
        SELECT {_cluster_json(db)} AS f FROM (
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
    return _json_array(db, f"""
        SELECT {_cluster_json(db)} AS f FROM (
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
