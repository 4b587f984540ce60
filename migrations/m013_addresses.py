"""The gazetteer (address points) and the street address of every report.

Address points are grouped by street: ``address_streets`` holds one row per street name and
locality (postcode or city) with a representative point, and a full-text index of its
normalised words (abbreviations spelled out, accents and case folded), so a search as the
resident types reads a few thousand streets, not a million points; the house number is then
an indexed lookup within the streets found. ``addresses_rtree`` finds the nearest point.
``reports.address`` is the nearest address when the report was made.
"""

STATEMENTS = [
    """CREATE TABLE address_streets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        locality TEXT NOT NULL DEFAULT '',
        name_tokens TEXT NOT NULL,
        locality_tokens TEXT NOT NULL,
        lon REAL NOT NULL,
        lat REAL NOT NULL
    )""",
    """CREATE VIRTUAL TABLE address_streets_fts USING fts5(
        name_tokens, locality_tokens, content='address_streets', content_rowid='id',
        prefix='1 2 3', tokenize='unicode61 remove_diacritics 2'
    )""",
    """CREATE TABLE addresses (
        id INTEGER PRIMARY KEY,
        street_id INTEGER NOT NULL REFERENCES address_streets(id),
        number TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL,
        lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
        lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90)
    )""",
    "CREATE INDEX addresses_number ON addresses(number, street_id)",
    "CREATE INDEX addresses_street ON addresses(street_id)",
    "CREATE VIRTUAL TABLE addresses_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat)",
    """CREATE TABLE address_sources (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        loaded_at TEXT NOT NULL,
        points INTEGER NOT NULL,
        skipped_no_position INTEGER NOT NULL,
        skipped_outside INTEGER NOT NULL
    )""",
    "ALTER TABLE reports ADD COLUMN address TEXT",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
