"""Schema migrations, append-only: each ``mNNN_*.py`` module holds one ``upgrade(db)``.

They are registered in file-name order on sqlite-utils' ``Migrations``; never rename,
reorder or edit one that has landed: add the next.
"""

import importlib
import pkgutil

from sqlite_utils.migrations import Migrations

migrations = Migrations("civic")

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name[0] == "m"):
    migrations(name=_module)(importlib.import_module(f"{__name__}.{_module}").upgrade)
