"""PostgreSQL + PostGIS behind the same small API as sqlite-utils' Database.

The storage functions are written once, in SQL both engines read, with sqlite3's ``?`` and
``:name`` placeholders and ``[name]`` quoting; this module turns those into psycopg's and runs
them. What the engines really do differently (spatial indexes, JSON, dates, full-text search)
is chosen per concern in ``app/storage/dialect.py``, never here.

Transactions follow the SQLite engine's rules: statements outside ``atomic()`` commit at once;
``atomic()`` is one transaction (savepoints when nested) that first takes the database's write
lock, a transaction-level advisory lock, and so does a lone write outside it. Writers
therefore queue exactly as they do behind SQLite's ``BEGIN IMMEDIATE``, on every app server
at once: a read-then-write cannot lose an update and two writers cannot deadlock. Readers
never wait for it.
"""

import contextlib
import functools
import re

import psycopg
from psycopg import adapt, pq
from psycopg.rows import dict_row

#: The one advisory lock every ``atomic()`` block takes first (any constant; "civic" in hex).
WRITE_LOCK = 0x636976_6963

WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
IDENTIFIER_START = re.compile(r"[A-Za-z_]")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DIGITS = re.compile(r"[0-9]+")
NUMBERED = re.compile(r"%\(p[0-9]+\)s")


class NumericLoader(adapt.Loader):
    """``numeric`` (what sum() and avg() of integers give) read as int or float, as SQLite
    gives them, so counts and averages serialise to JSON unchanged."""

    def load(self, data):
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eE") or text in ("NaN",) else int(text)


class TextAsBytes(adapt.Loader):
    """Text in binary format left as its UTF-8 bytes (see ``Database.column_bytes``)."""

    format = pq.Format.BINARY

    def load(self, data):
        return bytes(data)


class FlagDumper(adapt.Dumper):
    """A Python bool sent as the integer 0 or 1, as sqlite3 stores it: flag columns are
    bigint on both engines, and PostgreSQL casts no boolean to an integer."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj):
        return b"1" if obj else b"0"


@functools.lru_cache(maxsize=4096)
def translate(sql, with_params=True):
    """sqlite3's SQL text as psycopg's: ``?``, ``?NNN`` and ``:name`` become ``%s``,
    ``%(pNNN)s`` and ``%(name)s``, ``[name]`` becomes ``"name"``; with parameters, a literal
    ``%`` is doubled. String literals, quoted names and ``::`` casts are left as they are.

    >>> translate("SELECT 1 FROM photos WHERE name = ?1 OR thumb = ?1")
    'SELECT 1 FROM photos WHERE name = %(p1)s OR thumb = %(p1)s'
    """
    out, i, n = [], 0, len(sql)
    percent = "%%" if with_params else "%"
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = _closing_quote(sql, i)
            out.append(sql[i:end].replace("%", percent))
            i = end
        elif ch == "[":
            end = sql.index("]", i)
            out.append(f'"{sql[i + 1:end]}"')
            i = end + 1
        elif ch == "?" and with_params:
            number = DIGITS.match(sql, i + 1)
            out.append(f"%(p{number.group()})s" if number else "%s")
            i += 1 + (len(number.group()) if number else 0)
        elif ch == "%":
            out.append(percent)
            i += 1
        elif ch == ":" and with_params and _is_named_parameter(sql, i):
            name = IDENTIFIER.match(sql, i + 1).group()
            out.append(f"%({name})s")
            i += 1 + len(name)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def arguments(text, params):
    """The parameters for psycopg: a list given to numbered ``?NNN`` placeholders becomes
    the mapping their translation names (``?1`` is the list's first value)."""
    if isinstance(params, (list, tuple)) and NUMBERED.search(text):
        return {f"p{number}": value for number, value in enumerate(params, 1)}
    return params


def _closing_quote(sql, start):
    """The index just past the literal or quoted name opening at ``start`` (doubled quotes
    stay inside)."""
    quote, i = sql[start], start + 1
    while True:
        i = sql.index(quote, i)
        if sql.startswith(quote * 2, i):
            i += 2
            continue
        return i + 1


def _is_named_parameter(sql, i):
    return (sql[i - 1:i] != ":" and sql[i + 1:i + 2] != ":"
            and bool(IDENTIFIER_START.match(sql, i + 1)))


class Connection:
    """What callers use of sqlite3's connection: execute, executemany, commit, rollback and
    ``in_transaction``, on the psycopg connection (in autocommit mode)."""

    def __init__(self, raw):
        self.raw = raw

    @property
    def in_transaction(self):
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def execute(self, sql, params=None):
        with self.write_locked(sql):
            if params is None:
                return self.raw.execute(translate(sql, with_params=False))
            text = translate(sql)
            return self.raw.execute(text, arguments(text, params))

    def executemany(self, sql, seq_of_params):
        with self.write_locked(sql), self.raw.cursor() as cursor:
            cursor.executemany(translate(sql), list(seq_of_params))
            return cursor

    @contextlib.contextmanager
    def write_locked(self, sql):
        """A write outside any transaction takes the write lock for its own transaction, as
        every SQLite write does: triggers that update shared rows (the map data version, the
        summaries) then always lock in the same order, so writers cannot deadlock."""
        if self.in_transaction or not WRITE_STATEMENT.match(sql):
            yield
            return
        with self.raw.transaction():
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            yield

    def commit(self):
        """Statements outside ``atomic()`` are already committed (autocommit)."""

    def rollback(self):
        if self.in_transaction:
            self.raw.rollback()

    def close(self):
        self.raw.close()


class Database:
    """A PostgreSQL database with the part of sqlite-utils' Database the storage uses."""

    dialect = "postgresql"

    def __init__(self, url):
        raw = psycopg.connect(url, autocommit=True)
        raw.adapters.register_loader("numeric", NumericLoader)
        raw.adapters.register_dumper(bool, FlagDumper)
        self.url = url
        self.conn = Connection(raw)
        self._transactions = []
        self._columns = {}

    def execute(self, sql, params=None):
        return self.conn.execute(sql, params)

    def executescript(self, sql):
        self.conn.raw.execute(sql)

    def query(self, sql, params=None):
        """Each row as a dict, as sqlite-utils' ``query`` gives them."""
        with self.conn.raw.cursor(row_factory=dict_row) as cursor:
            if params is None:
                cursor.execute(translate(sql, with_params=False))
            else:
                text = translate(sql)
                cursor.execute(text, arguments(text, params))
            yield from cursor

    def column_bytes(self, sql, params):
        """The first column of every row as bytes: text asked for in binary format is its
        UTF-8 bytes, handed over as they came, never decoded."""
        text = translate(sql)
        with self.conn.raw.cursor(binary=True) as cursor:
            cursor.adapters.register_loader("text", TextAsBytes)
            cursor.execute(text, arguments(text, params))
            return [row[0] for row in cursor]

    def __getitem__(self, name):
        return Table(self, name)

    def table_names(self):
        return [row[0] for row in self.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "ORDER BY tablename")]

    def columns(self, table):
        """A table's column names, read once per connection (schemas change only by
        migrations, which run before the app serves)."""
        if table not in self._columns:
            self._columns[table] = {row[0] for row in self.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ?", [table])}
        return self._columns[table]

    @contextlib.contextmanager
    def atomic(self):
        """One transaction holding the write lock; nested blocks are savepoints."""
        with self.conn.raw.transaction():
            if not self._transactions:
                self.conn.raw.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            self._transactions.append(True)
            try:
                yield self
            finally:
                self._transactions.pop()

    def connection_lost(self):
        """The server closed the connection (a restart, a fail-over): open a new one."""
        return self.conn.raw.closed or self.conn.raw.broken

    def close(self):
        self.conn.close()


class InsertResult:
    """What ``Table.insert`` returns: sqlite-utils' ``last_pk``."""

    def __init__(self, last_pk):
        self.last_pk = last_pk


class Table:
    """sqlite-utils' table methods the storage uses: insert, insert_all, upsert, exists."""

    def __init__(self, db, name):
        self.db, self.name = db, name

    def exists(self):
        return self.db.execute("SELECT to_regclass(?) IS NOT NULL", [self.name]).fetchone()[0]

    def insert(self, row, pk=None):
        """Insert one row (a dict); ``last_pk`` is its id when the table has one."""
        columns = list(row)
        returning = " RETURNING id" if "id" in self._columns() else ""
        cursor = self.db.execute(self._insert_sql(columns) + returning,
                                 [row[c] for c in columns])
        return InsertResult(cursor.fetchone()[0] if returning else None)

    def insert_all(self, rows, pk=None):
        rows = list(rows)
        if rows:
            columns = list(rows[0])
            self.db.conn.executemany(self._insert_sql(columns),
                                     ([r[c] for c in columns] for r in rows))
        return self

    def upsert(self, row, pk):
        """Insert the row, or update the columns it gives when its key ``pk`` exists."""
        keys = [pk] if isinstance(pk, str) else list(pk)
        columns = list(row)
        updates = [c for c in columns if c not in keys]
        action = ("DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in updates)
                  if updates else "DO NOTHING")
        conflict = ", ".join(f'"{k}"' for k in keys)
        self.db.execute(f"{self._insert_sql(columns)} ON CONFLICT ({conflict}) {action}",
                        [row[c] for c in columns])
        return self

    def _insert_sql(self, columns):
        names = ", ".join(f'"{c}"' for c in columns)
        return f'INSERT INTO "{self.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'

    def _columns(self):
        return self.db.columns(self.name)
