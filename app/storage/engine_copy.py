"""A city's SQLite database copied into an empty PostgreSQL database (``db copy``).

One pass, one transaction on the target: the same migrations build the schema, then every
table is streamed with COPY from one consistent read of the SQLite file, the identity
sequences are set past the copied ids, and each table is read back and checked before the
commit, so a copy that does not match leaves the target as empty as it was.

What PostgreSQL computes itself is not copied: generated columns (``geom``,
``search_vector``), and the R*Tree and FTS5 tables SQLite keeps (their PostgreSQL stand-ins
are GiST and GIN indexes on those columns). The summaries triggers keep (map cells, cell
totals, statistics, ``supports`` counts, the map data version) are copied as they are, with
the target's triggers off for the transaction (``session_replication_role = replica``), so
they are not counted twice.

The checksum of a table is order-free: each row's values, normalised the same way on both
sides (integral floats as integers, bytes as hex, then JSON), are hashed with MD5, and the
digests summed modulo 2**128. Both engines' drivers return the rows; the engines never
format a value.
"""

import hashlib
import json
from dataclasses import dataclass

import psycopg

from app.errors import ValidationError
from app.storage import dumps, open_database, upgrade
from app.storage import public as public_rows

#: PostgreSQL tables that are not the city's data: the migrations' own record (written by
#: the upgrade) and the short-lived rate-limit counters (SQLite keeps them in another file).
NOT_COPIED = {"civic_migrations", "rate_limit_counters"}
#: SQLite's own bookkeeping: the migrations record of sqlite-utils and the statistics.
SQLITE_OWN = {"_sqlite_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"}
DIGEST_MODULUS = 1 << 128


@dataclass
class CopiedTable:
    name: str
    rows: int
    checksum: str


class Checksum:
    """Rows counted and hashed, whatever order they come in."""

    def __init__(self):
        self.rows, self.total = 0, 0

    def add(self, row):
        text = json.dumps([plain(value) for value in row], ensure_ascii=False)
        self.total = (self.total + int(hashlib.md5(text.encode()).hexdigest(), 16)
                      ) % DIGEST_MODULUS
        self.rows += 1

    @property
    def hex(self):
        return f"{self.total:032x}"


def plain(value):
    """A value as both drivers can give it: 5.0 and 5 are the same number, bytes are hex."""
    if isinstance(value, (bytes, memoryview)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def copy_to_postgresql(source, url):
    """Copy every table of the SQLite database ``source`` into the empty PostgreSQL
    database at ``url``; return a CopiedTable per table, in name order."""
    target = _connect(url)
    try:
        own = dumps.tables_of_its_own(target)
        if own:
            raise ValidationError(f"The PostgreSQL database already holds tables "
                                  f"({', '.join(own[:5])}...): db copy fills an empty one.")
        source.execute("BEGIN")
        try:
            copied = _copy_all(source, target)
        except psycopg.Error as error:
            raise ValidationError(f"The copy failed: {error}. Nothing was kept.") from None
        finally:
            source.execute("ROLLBACK")
        target.execute("ANALYZE")
        public_rows.put_map_in_grid_order(target)
        return copied
    finally:
        target.close()


def _copy_all(source, target):
    """One transaction: migrate, empty the tables of the rows migrations seed (the source
    has its own), copy each table, set the identities; all or nothing."""
    with target.atomic():
        upgrade(target)
        _triggers_off(target)
        tables = _tables(source, target)
        target.execute("TRUNCATE " + ", ".join(f'"{name}"' for name, _ in tables))
        copied = [_copy_table(source, target, name, columns) for name, columns in tables]
        _set_identities(target)
    return copied


def _connect(url):
    try:
        return open_database(url)
    except psycopg.Error as error:
        raise ValidationError(f"Cannot open the PostgreSQL database: {error}") from None


def _triggers_off(target):
    """Keep the target's triggers from counting the copied rows into the copied summaries."""
    try:
        target.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        raise ValidationError(
            "db copy turns the target's triggers off for its transaction: connect as a "
            "superuser, or GRANT SET ON PARAMETER session_replication_role to this role "
            "(PostgreSQL 15+).") from None


def _tables(source, target):
    """(name, columns) of each table to copy: the target's tables and stored columns, each
    of which the source must have; a source table or column with no place in the target is
    refused rather than left behind."""
    source_tables = {row[1] for row in source.execute("PRAGMA table_list")
                     if row[0] == "main" and row[2] == "table"
                     and not row[1].startswith("sqlite_")} - SQLITE_OWN
    target_tables = set(dumps.tables_of_its_own(target)) - NOT_COPIED
    if source_tables - target_tables:
        raise ValidationError("These SQLite tables have no PostgreSQL twin: "
                              + ", ".join(sorted(source_tables - target_tables)))
    tables = []
    for name in sorted(target_tables):
        columns = [row[0] for row in target.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? AND is_generated = 'NEVER' "
            "ORDER BY ordinal_position", [name])]
        in_source = {row[1] for row in source.execute(f"PRAGMA table_info([{name}])")}
        if in_source ^ set(columns):
            raise ValidationError(f"Table {name} differs between the engines: "
                                  + ", ".join(sorted(in_source ^ set(columns))))
        tables.append((name, columns))
    return tables


def _copy_table(source, target, name, columns):
    """Stream the table with COPY, then read it back: the counts and checksums must match."""
    names = ", ".join(f'"{column}"' for column in columns)
    sent = Checksum()
    with target.conn.raw.cursor() as cursor:
        with cursor.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
            for row in source.execute(f"SELECT {names} FROM [{name}]"):
                copy.write_row(row)
                sent.add(row)
    stored = Checksum()
    for row in target.execute(f'SELECT {names} FROM "{name}"'):
        stored.add(row)
    if (stored.rows, stored.hex) != (sent.rows, sent.hex):
        raise ValidationError(f"Table {name} does not match after the copy: {sent.rows} row(s) "
                              f"sent, {stored.rows} stored; checksum {sent.hex} sent, "
                              f"{stored.hex} stored. Nothing was kept.")
    return CopiedTable(name, sent.rows, sent.hex)


def _set_identities(target):
    """Every identity column's next value past the largest copied id, so a new row gets a
    fresh one."""
    for table, column in target.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall():
        target.execute(f'SELECT setval(pg_get_serial_sequence(?, ?), '
                       f'coalesce(max("{column}"), 0) + 1, false) FROM "{table}"',
                       [f'"{table}"', column])
