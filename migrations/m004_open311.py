"""Open311 GeoReport v2: API keys, a token per report, kept media links, service targets."""

STATEMENTS = [
    """CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        key_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    )""",
    "ALTER TABLE reports ADD COLUMN media_url TEXT",
    "ALTER TABLE reports ADD COLUMN token TEXT",
    "CREATE UNIQUE INDEX reports_token ON reports(token)",
    "ALTER TABLE services ADD COLUMN target_days INTEGER",
    "ALTER TABLE categories ADD COLUMN description TEXT",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
