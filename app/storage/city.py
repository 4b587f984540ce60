"""What a city folder loaded: its settings and the fingerprints of the files it loaded."""

import json
import sqlite3
from pathlib import Path

from app.storage import areas, is_postgresql, now, open_database


def settings(db):
    """{NAME: value} of the settings the last city folder set."""
    return {row["name"]: json.loads(row["value"])
            for row in db.query("SELECT name, value FROM city_settings")}


def replace_settings(db, values):
    """Make ``values`` the city's settings; return True when they changed."""
    if settings(db) == values:
        return False
    with db.atomic():
        db.execute("DELETE FROM city_settings")
        db["city_settings"].insert_all(
            {"name": name, "value": json.dumps(value)} for name, value in values.items())
    return True


def stored_settings(target):
    """The city settings stored in the database (a PostgreSQL URL or a SQLite file), read
    without creating or changing anything ({} when it or its table does not exist yet)."""
    if is_postgresql(target):
        return _settings_on_server(target)
    return _settings_in_file(target)


def _settings_on_server(url):
    db = open_database(url)
    try:
        if not db["city_settings"].exists():
            return {}
        rows = db.execute("SELECT name, value FROM city_settings").fetchall()
    finally:
        db.close()
    return {name: json.loads(value) for name, value in rows}


def _settings_in_file(path):
    if not Path(path).is_file():
        return {}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT name, value FROM city_settings").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        connection.close()
    return {name: json.loads(value) for name, value in rows}


def fingerprint(db, part):
    row = db.execute("SELECT fingerprint FROM city_files WHERE part = ?", [part]).fetchone()
    return row[0] if row else None


def set_fingerprint(db, part, value):
    db["city_files"].upsert({"part": part, "fingerprint": value, "loaded_at": now()},
                            pk="part")


def upsert_named(db, kind, code, name):
    """Create the category or service ``code`` named ``name``, or rename it; return True
    when something changed."""
    table = {"category": "categories", "service": "services"}[kind]
    row = db.execute(f"SELECT name FROM {table} WHERE code = ?", [code]).fetchone()
    if row is None:
        db[table].insert({"code": code, "name": name, "created_at": now()})
        return True
    if row[0] == name:
        return False
    db.execute(f"UPDATE {table} SET name = ? WHERE code = ?", [name, code])
    return True


def retire_others(db, kind, codes):
    """Retire the categories or services not among ``codes`` and bring back those among
    them that were retired; return (retired codes, brought back codes), each sorted."""
    table = {"category": "categories", "service": "services"}[kind]
    codes = set(codes)
    flags = dict(db.execute(f"SELECT code, retired FROM {table}"))
    retire = sorted(code for code, flag in flags.items() if flag == 0 and code not in codes)
    restore = sorted(code for code, flag in flags.items() if flag != 0 and code in codes)
    for flag, chosen in ((1, retire), (0, restore)):
        db.conn.executemany(f"UPDATE {table} SET retired = ? WHERE code = ?",
                            [(flag, code) for code in chosen])
    return retire, restore


def translated_name(db, kind, code, locale):
    row = db.execute("SELECT name FROM name_translations WHERE kind = ? AND code = ? "
                     "AND locale = ?", [kind, code, locale]).fetchone()
    return row[0] if row else None


def translations_of(db, kind):
    """{code: {locale: name}} of every translated category or service name."""
    found = {}
    for row in db.query("SELECT code, locale, name FROM name_translations WHERE kind = ?",
                        [kind]):
        found.setdefault(row["code"], {})[row["locale"]] = row["name"]
    return found


def layers_in_force(db):
    """Each layer in force: its areas with name, priority, service, categories and
    properties, in id order."""
    layers = {}
    for row in areas.active_areas(db):
        layers.setdefault(row["layer"], []).append(row)
    return layers


def all_address_points(db):
    """Every address point of the gazetteer: its text and position."""
    return list(db.query("SELECT address, lon, lat FROM addresses ORDER BY id"))


def public_reports(db):
    """What a city export writes of each report the public may see (not hidden): its id,
    category, position, public description, status, and when it was made and reached that
    status; never the reporter's name, e-mail, phone or any other contact."""
    return list(db.query("""
        SELECT r.id, c.code AS category, r.lon, r.lat, r.created_at, r.status,
               (SELECT max(e.at) FROM report_events e WHERE e.report_id = r.id
                  AND e.kind = 'status' AND e.to_status = r.status) AS status_at,
               coalesce(r.public_description, r.description) AS description
        FROM reports r JOIN categories c ON c.id = r.category_id
        WHERE r.hidden = 0
        ORDER BY r.id"""))


def translation_locales(db):
    """The languages some category or service is named in."""
    return {row[0] for row in db.execute("SELECT DISTINCT locale FROM name_translations")}


def report_ids_by_external_id(db, source):
    """{external_id: report id} of the reports imported from ``source``."""
    return dict(db.execute(
        "SELECT external_id, id FROM reports WHERE source = ? AND external_id IS NOT NULL",
        [source]))


def add_history_events(db, events):
    """Record the events of imported reports in one statement (dicts: report_id, kind, actor,
    at, from_status, to_status, public_note), as ``reports.add_event`` records one: an empty
    note is stored as none."""
    db.conn.executemany(
        "INSERT INTO report_events (report_id, kind, actor, at, from_status, to_status, "
        "public_note, internal_note, details) VALUES (:report_id, :kind, :actor, :at, "
        ":from_status, :to_status, :public_note, NULL, '{}')",
        [{**event, "public_note": event["public_note"] or None} for event in events])
