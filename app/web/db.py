"""The one module that owns the connection: each thread keeps one open database (a
sqlite-utils Database, or its PostgreSQL counterpart).

It also hands out the other instance resources (the router, the photo store) and runs
streamed responses on a connection of their own.
"""

import os
import threading
import weakref
from pathlib import Path

from flask import Response, current_app, g, stream_with_context

from app.reporting.photos import PhotoStore
from app.storage import database_target, is_postgresql, open_database


class HeldConnection:
    """A connection kept open for one thread, and the database it was opened on."""

    def __init__(self, target):
        self.target, self.identity, self.pid = target, file_identity(target), os.getpid()
        self.db = open_database(target)
        if self.db.dialect == "sqlite":
            self.db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        #: Closes the connection when its thread or app goes away (a server connection
        #: left to the garbage collector stays open until then), or when replaced.
        self.close = weakref.finalize(self, close_if_opened_here, self.db, self.pid)

    def still_valid(self, target):
        """Same database in the same process: not another database, not a file replaced
        under it (a restore), not a connection inherited across a fork (gunicorn's
        workers), not a server connection that was lost."""
        return (self.target == target and self.pid == os.getpid()
                and self.identity == file_identity(target) and not self.db.connection_lost())


def close_if_opened_here(db, pid):
    """Close ``db`` unless this process is a fork of the one that opened it: closing an
    inherited connection would end the parent's session or release its file locks."""
    if os.getpid() == pid:
        db.close()


#: Each thread's connection maps up to this much of the file: reads come straight from the
#: operating system's page cache, shared by every connection of every worker.
MMAP_BYTES = 1 << 30


def file_identity(path):
    if is_postgresql(path):
        return None
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


class ConnectionPool:
    """One open connection per thread, kept from request to request: a fresh connection per
    request re-reads the schema, starts with an empty page cache and checkpoints the WAL
    when it closes, which cost more than a map view's whole answer."""

    def __init__(self):
        self._local = threading.local()

    def connection(self, target):
        held = getattr(self._local, "held", None)
        if held is None or not held.still_valid(target):
            if held is not None:
                held.close()
            held = self._local.held = HeldConnection(target)
        return held.db


def get_db():
    """The request's database: this thread's kept connection (see ConnectionPool)."""
    if "db" not in g:
        pool = current_app.extensions.setdefault("db_pool", ConnectionPool())
        g.db = pool.connection(database_target(current_app))
    return g.db


def close_db(_exception=None):
    """End of request: whatever it left uncommitted is rolled back, as closing would."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def get_router():
    """The router of the current boundary version (rebuilt when a new version is loaded)."""
    return current_app.extensions["router_cache"].get(get_db())


def get_photo_store():
    return PhotoStore(Path(current_app.instance_path) / current_app.config["PHOTO_STORE"])


def streamed(make_chunks, mimetype, filename):
    """A download streamed from ``make_chunks(db)`` on its own connection, closed at the end.

    The request's connection is closed on teardown, which may come before a long download
    ends; this one lives exactly as long as the stream.
    """
    target = database_target(current_app)

    def generate():
        db = open_database(target)
        try:
            yield from make_chunks(db)
        finally:
            db.close()

    response = Response(stream_with_context(generate()), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
