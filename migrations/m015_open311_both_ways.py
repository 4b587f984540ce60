"""Open311 both ways: services reached through a city's Open311 server, every field an
Open311 client sends, partners' updates, and a rate per API key.

- ``services``: the city's endpoint, jurisdiction, the name of the environment variable
  that holds their API key (never the key), our category codes mapped to theirs and their
  statuses mapped to ours (JSON objects).
- ``reports``: the client's phone (private, like the e-mail), device_id, account_id,
  address_string, address_id and every media_url (a JSON list).
- ``open311_requests``: the city's service_request_id of each report sent to a service.
- ``open311_received``: each update taken in (from a partner's POST or from polling a
  city), once per source and update_id, so taking it in again records nothing.
- ``outbox``: rebuilt (SQLite cannot change a CHECK) so a message may go by ``open311``.
"""

OUTBOX_COLUMNS = ("id, channel, purpose, recipient, subject, body, headers, report_id, "
                  "dedupe_key, state, attempts, next_attempt_at, claimed_until, last_error, "
                  "created_at, sent_at")

STATEMENTS = [
    "ALTER TABLE services ADD COLUMN open311_endpoint TEXT",
    "ALTER TABLE services ADD COLUMN open311_jurisdiction TEXT",
    "ALTER TABLE services ADD COLUMN open311_key_env TEXT",
    "ALTER TABLE services ADD COLUMN open311_service_codes TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE services ADD COLUMN open311_statuses TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE reports ADD COLUMN reporter_phone TEXT",
    "ALTER TABLE reports ADD COLUMN device_id TEXT",
    "ALTER TABLE reports ADD COLUMN account_id TEXT",
    "ALTER TABLE reports ADD COLUMN address_string TEXT",
    "ALTER TABLE reports ADD COLUMN address_id TEXT",
    "ALTER TABLE reports ADD COLUMN media_urls TEXT NOT NULL DEFAULT '[]'",
    "UPDATE reports SET media_urls = json_array(media_url) WHERE media_url IS NOT NULL",
    "ALTER TABLE api_keys ADD COLUMN rate TEXT",
    """CREATE TABLE open311_requests (
        report_id INTEGER NOT NULL REFERENCES reports(id),
        service_id INTEGER NOT NULL REFERENCES services(id),
        remote_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (report_id, service_id),
        UNIQUE (service_id, remote_id)
    )""",
    """CREATE TABLE open311_received (
        source TEXT NOT NULL,
        update_id TEXT NOT NULL,
        report_id INTEGER NOT NULL REFERENCES reports(id),
        received_at TEXT NOT NULL,
        PRIMARY KEY (source, update_id)
    )""",
    """CREATE TABLE outbox_open311 (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'open311')),
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
    f"INSERT INTO outbox_open311 ({OUTBOX_COLUMNS}) SELECT {OUTBOX_COLUMNS} FROM outbox",
    "DROP TABLE outbox",
    "ALTER TABLE outbox_open311 RENAME TO outbox",
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_at)",
    "CREATE INDEX outbox_report ON outbox(report_id)",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
