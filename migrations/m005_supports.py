"""Supports ("me too"): one per report and person, counted on the report for sorting."""

STATEMENTS = [
    """CREATE TABLE supports (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id),
        browser_token TEXT NOT NULL,
        email TEXT COLLATE NOCASE,
        created_at TEXT NOT NULL,
        UNIQUE (report_id, browser_token)
    )""",
    "CREATE UNIQUE INDEX supports_report_email ON supports(report_id, email) "
    "WHERE email IS NOT NULL",
    "ALTER TABLE reports ADD COLUMN supports INTEGER NOT NULL DEFAULT 0",
    """CREATE TRIGGER supports_count AFTER INSERT ON supports BEGIN
        UPDATE reports SET supports = supports + 1 WHERE id = NEW.report_id;
    END""",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
