"""Updates from residents: the reporter's own (through their private link), with a photo."""

STATEMENTS = [
    """CREATE TABLE report_updates (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id),
        author TEXT NOT NULL CHECK (author IN ('reporter', 'public')),
        text TEXT NOT NULL,
        display_name TEXT,
        thumb_name TEXT,
        hidden INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX report_updates_report ON report_updates(report_id, created_at)",
    "CREATE INDEX report_updates_display ON report_updates(display_name)",
    "CREATE INDEX report_updates_thumb ON report_updates(thumb_name)",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
