"""A PostgreSQL database saved to one file and restored from it, with pg_dump and pg_restore.

The custom format: compressed, listed (and so checked) by ``pg_restore --list`` before
anything is touched, restored in one transaction. ``pg_dump`` reads a snapshot exported by a
transaction of ours, so what that transaction reads (the photo names) is exactly what the
dump holds, while the app keeps writing.

The server's password, when the URL has one, goes to the programs in their environment, not
on their command line, where any local user could read it.
"""

import contextlib
import glob
import os
import shutil
import subprocess
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.errors import ValidationError
from app.storage import open_database

#: What pg_restore is asked for: all or nothing, objects owned by whoever restores.
RESTORE_OPTIONS = ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]


def program(name):
    """The newest installed PostgreSQL's ``name`` (a newer pg_dump reads older servers),
    else the one on the PATH."""
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                     key=lambda folder: int(Path(folder).parent.name))
    for folder in reversed(folders):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    found = shutil.which(name)
    if found is None:
        raise ValidationError(f"{name} is not installed: install PostgreSQL's client programs "
                              "(apt-get install postgresql-client).")
    return found


def run(name, *arguments, url):
    """Run a PostgreSQL program on the database at ``url``; its error becomes ours."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ, PGPASSWORD=password) if password else None
    result = subprocess.run([program(name), *arguments, "--dbname", make_conninfo(**params)],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise ValidationError(f"{name} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


@contextlib.contextmanager
def snapshot(url):
    """An open database in a read-only, repeatable-read transaction, and the name of its
    exported snapshot (valid for ``pg_dump --snapshot`` while the block runs)."""
    db = open_database(url)
    try:
        with db.conn.raw.transaction():
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield db, db.execute("SELECT pg_export_snapshot()").fetchone()[0]
    finally:
        db.close()


def dump(url, snapshot_name, file):
    """Write the database as of ``snapshot_name`` into ``file`` (custom format)."""
    run("pg_dump", "--format=custom", f"--snapshot={snapshot_name}", f"--file={file}", url=url)


def check_archive(file):
    """Refuse a file pg_restore cannot read, before the database is touched."""
    result = subprocess.run([program("pg_restore"), "--list", str(file)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise ValidationError(f"{file} is not a readable pg_dump archive: "
                              f"{result.stderr.strip()[-500:]}")


def restore(url, file, replace=False):
    """Restore ``file`` into the database in one transaction; ``replace`` first drops the
    objects the archive holds (tables, functions, PostGIS itself) so they come back as saved."""
    options = [*RESTORE_OPTIONS, "--clean", "--if-exists"] if replace else RESTORE_OPTIONS
    run("pg_restore", *options, str(file), url=url)


def tables_of_its_own(db):
    """The tables of the database's schema that no extension brought (PostGIS's
    ``spatial_ref_sys`` is not the city's): none means the database is empty."""
    return [row[0] for row in db.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
        "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY c.relname")]
