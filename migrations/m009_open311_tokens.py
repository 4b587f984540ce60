"""Open311: a request token of its own for each request created through the API (the token
answered to the client used to be the reporter's manage secret), and an index on event
times for servicerequestupdates."""

STATEMENTS = [
    "ALTER TABLE reports ADD COLUMN request_token TEXT",
    "CREATE UNIQUE INDEX reports_request_token ON reports(request_token)",
    "CREATE INDEX report_events_at ON report_events(at)",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
