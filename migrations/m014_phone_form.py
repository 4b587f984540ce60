"""The phone form (issue 16): one report per tap, and photos staged as soon as chosen.

``reports.submission_key`` is the random key the form carries; a unique index makes a second
POST with the same key (a double tap, two workers at once, an offline draft sent again)
unable to create a second report.

``staged_photos`` holds photos uploaded before the report is sent: already through the
server's pipeline (files in the photo store, content-addressed like every photo), owned by
one browser (``owner_key``: a hash of its random cookie), never public, removed after a day
by ``flask --app app photos gc``.
"""

STATEMENTS = [
    "ALTER TABLE reports ADD COLUMN submission_key TEXT",
    "CREATE UNIQUE INDEX reports_submission_key ON reports(submission_key) "
    "WHERE submission_key IS NOT NULL",
    """CREATE TABLE staged_photos (
        id TEXT PRIMARY KEY,
        owner_key TEXT NOT NULL,
        display_name TEXT NOT NULL,
        thumb_name TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX staged_photos_owner ON staged_photos(owner_key, created_at)",
    "CREATE INDEX staged_photos_created ON staged_photos(created_at)",
    "CREATE INDEX staged_photos_display ON staged_photos(display_name)",
    "CREATE INDEX staged_photos_thumb ON staged_photos(thumb_name)",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
