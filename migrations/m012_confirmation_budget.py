"""Confirmation e-mails: a daily budget per mailbox, and "me too" with an e-mail confirmed.

``confirmation_budget`` keeps one row per confirmation e-mail queued (alert, follow a report,
support), keyed by an HMAC of the normalised mailbox, so every kind of confirmation shares
one budget per mailbox and day without the address in clear.

A support given with an e-mail now waits for its mailbox's owner to confirm it: the
supports table is rebuilt (SQLite cannot drop a table constraint) so that such a row has no
browser token, carries a confirmation token, and counts on the report only once
``confirmed_at`` is set. Supports already given were counted, so they are confirmed.
"""

STATEMENTS = [
    """CREATE TABLE confirmation_budget (
        mailbox_key TEXT NOT NULL,
        sent_at TEXT NOT NULL
    )""",
    "CREATE INDEX confirmation_budget_mailbox ON confirmation_budget(mailbox_key, sent_at)",
    """CREATE TABLE supports_confirmed (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id),
        browser_token TEXT,
        email_key TEXT,
        confirm_token TEXT UNIQUE,
        confirmed_at TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (report_id, browser_token)
    )""",
    "INSERT INTO supports_confirmed (id, report_id, browser_token, email_key, confirmed_at, "
    "created_at) SELECT id, report_id, browser_token, email_key, created_at, created_at "
    "FROM supports",
    "DROP TABLE supports",
    "ALTER TABLE supports_confirmed RENAME TO supports",
    "CREATE UNIQUE INDEX supports_report_email_key ON supports(report_id, email_key) "
    "WHERE email_key IS NOT NULL",
    "CREATE INDEX supports_created ON supports(created_at)",
    """CREATE TRIGGER supports_count AFTER INSERT ON supports
        WHEN NEW.confirmed_at IS NOT NULL BEGIN
        UPDATE reports SET supports = supports + 1 WHERE id = NEW.report_id;
    END""",
    """CREATE TRIGGER supports_confirm_count AFTER UPDATE OF confirmed_at ON supports
        WHEN OLD.confirmed_at IS NULL AND NEW.confirmed_at IS NOT NULL BEGIN
        UPDATE reports SET supports = supports + 1 WHERE id = NEW.report_id;
    END""",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
