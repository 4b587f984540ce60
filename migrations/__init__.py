"""Schema migrations, append-only: each ``mNNN_*.py`` module holds one ``upgrade(db)`` for
SQLite, and ``postgresql/mNNN_*.sql`` is its twin for PostgreSQL, under the same name.

On SQLite they are registered in file-name order on sqlite-utils' ``Migrations``; on
PostgreSQL the twins run in the same order and are recorded in ``civic_migrations``. Never
rename, reorder or edit one that has landed: add the next, with its twin.
"""

import importlib
import pkgutil
from pathlib import Path

from sqlite_utils.migrations import Migrations

NAMES = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name[0] == "m")
TWINS = Path(__file__).resolve().parent / "postgresql"
#: Functions that give PostgreSQL the names the shared SQL calls (``distance_m``...):
#: replaced on every upgrade, so they always match the code.
FUNCTIONS = TWINS / "functions.sql"

migrations = Migrations("civic")

for _module in NAMES:
    migrations(name=_module)(importlib.import_module(f"{__name__}.{_module}").upgrade)


def pending_postgresql(db):
    """The migrations a PostgreSQL database has not had yet, in order."""
    if not db["civic_migrations"].exists():
        return list(NAMES)
    applied = {row[0] for row in db.execute("SELECT name FROM civic_migrations")}
    return [name for name in NAMES if name not in applied]


def apply_postgresql(db, now):
    """Run the pending twins in one transaction under the write lock, so two servers
    upgrading at once apply each exactly once; then replace the shared functions."""
    with db.atomic():
        db.executescript("CREATE TABLE IF NOT EXISTS civic_migrations "
                         "(name text PRIMARY KEY, applied_at text NOT NULL)")
        pending = pending_postgresql(db)
        for name in pending:
            db.executescript((TWINS / f"{name}.sql").read_text())
            db.execute("INSERT INTO civic_migrations (name, applied_at) VALUES (?, ?)",
                       [name, now])
        db.executescript(FUNCTIONS.read_text())
    return pending
