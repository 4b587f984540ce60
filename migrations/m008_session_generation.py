"""A session generation per staff account: a session cookie names the generation it was
issued under, and logging out or changing the password starts a new one, so copies of older
cookies stop working."""


def upgrade(db):
    db.execute("ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0")
