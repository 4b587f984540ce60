"""What a city folder loaded (``flask --app app city load``): its settings, read by every
process at start-up, and a fingerprint of each file it loaded, so that loading the same
folder again changes nothing and a changed file is loaded as a new version."""

STATEMENTS = [
    """CREATE TABLE city_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE city_files (
        part TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        loaded_at TEXT NOT NULL
    )""",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
