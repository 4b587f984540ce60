"""Full open-data exports as files in the instance folder, regenerated now and then.

Streaming every report to every anonymous client cost a full table read, a worker thread and
tens of megabytes per download, and eight of them at once starved everything else (issue 13).
Open-data portals publish a file instead: it is written once (the outbox worker's rounds,
``flask --app app exports refresh``, or the first request after it grew older than
``EXPORT_MAX_AGE_SECONDS``), then served like a static file with ``ETag``/``Last-Modified``.

A lock file makes sure only one process regenerates at a time; everyone else keeps getting
the previous file, which a new one replaces atomically (rename), so a reader never sees half.
Like :mod:`app.messaging.outbox`, functions take the app object (its settings and instance
folder) and the site's links from the caller; no Flask is imported here.
"""

import fcntl
import os
import time
from contextlib import contextmanager
from datetime import UTC, datetime

from app.errors import ServerBusy
from app.reporting import public
from app.storage import database_path, database_target, open_database
from app.storage import public as public_rows
from app.storage.public import ReportQuery

FOLDER = "exports"
#: Each full export: its file name and the chunks that make it up.
FORMATS = {
    "csv": ("reports.csv", public.csv_chunks),
    "geojson": ("reports.geojson", public.geojson_chunks),
}


class ExportBusy(ServerBusy):
    """The server is busy with exports; the client should come back in a moment."""

    retry_after_seconds = 30


def folder_of(app):
    """The ``exports`` folder beside the database (in the instance folder by default)."""
    folder = database_path(app).parent / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_path(app, fmt):
    return folder_of(app) / FORMATS[fmt][0]


def is_full(query):
    """Whether a query asks for every public report (no filter), i.e. the published file."""
    return query == ReportQuery()


def is_stale(app, db, path):
    """Missing, older than EXPORT_MAX_AGE_SECONDS, or written before something in it was
    withdrawn from public view (hidden, redacted, erased): a withdrawal never waits an hour."""
    if not path.exists():
        return True
    written = path.stat().st_mtime
    if time.time() - written > float(app.config["EXPORT_MAX_AGE_SECONDS"]):
        return True
    second = datetime.fromtimestamp(int(written), UTC).isoformat()
    return public_rows.withdrawn_since(db, second)


def any_stale(app, db):
    return any(is_stale(app, db, export_path(app, fmt)) for fmt in FORMATS)


@contextmanager
def regeneration_lock(app, wait):
    """Hold the lock file that one regenerating process owns; yield whether we got it."""
    with open(folder_of(app) / ".lock", "w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _write(app, db, fmt, links, snapshot_time):
    """Write one export beside its final name, then rename it over the previous file; its
    time is when the data was read, so a later withdrawal makes it stale."""
    name, chunks = FORMATS[fmt]
    final = export_path(app, fmt)
    partial = final.with_name(f".{name}.{os.getpid()}.partial")
    with open(partial, "w", encoding="utf-8", newline="") as out:
        for chunk in chunks(db, ReportQuery(), links):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.utime(partial, (snapshot_time, snapshot_time))
    os.replace(partial, final)


def write_all(app, links):
    """Regenerate every full export from the database (the caller holds the lock), with
    links on the site's public address (``app.web.links.SiteLinks``)."""
    db = open_database(database_target(app))
    try:
        for fmt in FORMATS:
            _write(app, db, fmt, links, time.time())
    finally:
        db.close()


def refresh(app, db, links, only_if_stale=False):
    """Regenerate the exports, waiting for another regeneration to end first; return
    whether this call wrote them."""
    with regeneration_lock(app, wait=True):
        if only_if_stale and not any_stale(app, db):
            return False
        write_all(app, links)
        return True


def refresh_if_stale(app, db, links):
    """Regenerate stale exports unless another process is already doing it; never waits."""
    if not any_stale(app, db):
        return False
    with regeneration_lock(app, wait=False) as locked:
        if locked and any_stale(app, db):
            write_all(app, links)
            return True
    return False


def file_to_serve(app, db, fmt, links):
    """The full export's file. A stale one is regenerated first by this request only when no
    other process is at it; the others get the previous file, or a 503 while there is none."""
    path = export_path(app, fmt)
    if is_stale(app, db, path):
        refresh_if_stale(app, db, links)
    if not path.exists():
        raise ExportBusy("The full export is being prepared: try again in a minute.")
    return path
