"""Privacy: supports keep a keyed hash of the supporter's normalised address instead of the
address, and subscriptions remember when their confirmation e-mail was last queued.

The migration has no secret key to hash the old addresses with, so it drops them: the old
supports still count, they just no longer block a repeat from the same address.
"""

STATEMENTS = [
    "DROP INDEX supports_report_email",
    "ALTER TABLE supports DROP COLUMN email",
    "ALTER TABLE supports ADD COLUMN email_key TEXT",
    "CREATE UNIQUE INDEX supports_report_email_key ON supports(report_id, email_key) "
    "WHERE email_key IS NOT NULL",
    "CREATE INDEX supports_created ON supports(created_at)",
    "ALTER TABLE subscriptions ADD COLUMN confirmation_sent_at TEXT",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
