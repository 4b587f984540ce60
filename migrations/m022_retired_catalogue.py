"""Categories and services a city folder no longer lists are retired, not deleted: their
reports keep them (and still show them), but a retired category is no longer offered (the
form, Open311 ``GET services``, its questions) and a folder that lists it again brings it
back. A flag, 0 or 1, compared as ``retired = 0`` so the SQL reads the same in PostgreSQL."""

STATEMENTS = [
    "ALTER TABLE categories ADD COLUMN retired INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE services ADD COLUMN retired INTEGER NOT NULL DEFAULT 0",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
