"""The dispatcher's working day: who a report is assigned to, its priority, the targets its
due times come from, response templates and the daily overdue digests.

Due times are not stored: they follow from the report's creation and the target of its
category (a service's own target first), so changing a target moves every open report's due
time at once. A target row without a service is the category's target for every service;
the unique index treats that "no service" as one value.
"""

STATEMENTS = [
    "ALTER TABLE reports ADD COLUMN assignee_id INTEGER REFERENCES users(id)",
    "ALTER TABLE reports ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal' "
    "CHECK (priority IN ('low', 'normal', 'high', 'urgent'))",
    "CREATE INDEX reports_assignee ON reports(assignee_id)",
    """CREATE TABLE report_targets (
        id INTEGER PRIMARY KEY,
        category_id INTEGER NOT NULL REFERENCES categories(id),
        service_id INTEGER REFERENCES services(id),
        acknowledge_hours REAL CHECK (acknowledge_hours > 0),
        fix_hours REAL CHECK (fix_hours > 0),
        updated_at TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX report_targets_scope "
    "ON report_targets(category_id, coalesce(service_id, 0))",
    """CREATE TABLE response_templates (
        id INTEGER PRIMARY KEY,
        service_id INTEGER NOT NULL REFERENCES services(id),
        category_id INTEGER REFERENCES categories(id),
        status TEXT,
        locale TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX response_templates_service ON response_templates(service_id, locale)",
    """CREATE TABLE overdue_digests (
        service_id INTEGER NOT NULL REFERENCES services(id),
        day TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        overdue INTEGER NOT NULL,
        PRIMARY KEY (service_id, day)
    )""",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
