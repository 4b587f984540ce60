"""A version number of everything the public map shows, for the map API's ``ETag``.

Triggers bump ``map_data_version.n`` on every write to a table whose rows reach a map
feature (reports, their photos, the catalogue's names), so a map that asks for a view it has
already seen gets a 304 after reading one row, instead of the view being answered again. One
counter for the whole city: any write makes every cached view stale, which errs on the safe
side and costs one row update per write.
"""

TABLES = ("reports", "photos", "categories", "services", "name_translations")


def _bump_triggers(table):
    return [f"""CREATE TRIGGER {table}_map_version_{event.lower()} AFTER {event} ON {table}
        BEGIN UPDATE map_data_version SET n = n + 1; END"""
            for event in ("INSERT", "UPDATE", "DELETE")]


def upgrade(db):
    db.execute("CREATE TABLE map_data_version (n INTEGER NOT NULL)")
    db.execute("INSERT INTO map_data_version VALUES (1)")
    for table in TABLES:
        for statement in _bump_triggers(table):
            db.execute(statement)
