"""The outbox (every e-mail and webhook, with its delivery state), alert subscriptions,
names of categories and services in other languages, and the reporter's language."""

STATEMENTS = [
    "ALTER TABLE reports ADD COLUMN locale TEXT",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
        purpose TEXT NOT NULL,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        headers TEXT NOT NULL DEFAULT '{}',
        report_id INTEGER REFERENCES reports(id),
        dedupe_key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        claimed_until TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_at)",
    "CREATE INDEX outbox_report ON outbox(report_id)",
    """CREATE TABLE outbox_cursor (
        name TEXT PRIMARY KEY,
        event_id INTEGER NOT NULL
    )""",
    # Events recorded before the outbox existed are history, not news.
    "INSERT INTO outbox_cursor (name, event_id) "
    "SELECT 'events', coalesce(max(id), 0) FROM report_events",
    """CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('report', 'radius', 'area')),
        report_id INTEGER REFERENCES reports(id),
        lon REAL,
        lat REAL,
        radius_m REAL,
        area_id INTEGER REFERENCES service_areas(id),
        locale TEXT NOT NULL DEFAULT 'en',
        token TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        unsubscribed_at TEXT
    )""",
    "CREATE INDEX subscriptions_report ON subscriptions(report_id)",
    "CREATE INDEX subscriptions_email ON subscriptions(email COLLATE NOCASE)",
    """CREATE TABLE name_translations (
        kind TEXT NOT NULL CHECK (kind IN ('category', 'service')),
        code TEXT NOT NULL,
        locale TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (kind, code, locale)
    )""",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
