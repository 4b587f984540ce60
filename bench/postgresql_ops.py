"""Time the PostgreSQL operations commands on the demo city: ``db copy`` from its SQLite
file into an empty database, then ``backup`` of that database and ``restore`` into another.

Runs on a throwaway cluster (unix socket only) started and removed here; needs PostgreSQL and
PostGIS installed. Usage: ``.venv/bin/python bench/postgresql_ops.py``
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from tests import engines  # noqa: E402
from tests.test_db_copy import demo_app  # noqa: E402


def timed(app, *args):
    """Run a CLI command through the app; its last line and the seconds it took."""
    start = time.perf_counter()
    result = app.test_cli_runner().invoke(args=list(args))
    seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return result.output.strip().splitlines()[-1], seconds


def main():
    folder = Path(tempfile.mkdtemp(prefix="civic-pg-ops-"))
    source = demo_app(folder)
    with engines.throwaway_cluster() as server, engines.empty_database(server) as url, \
            engines.empty_database(server) as other:
        said, seconds = timed(source, "db", "copy", "--to", url)
        print(f"db copy: {seconds:.2f} s ({said})")
        served = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url,
                             "PHOTO_STORE": str(folder / "photos")})
        said, seconds = timed(served, "backup", str(folder / "backup"))
        size = (folder / "backup" / "civic.pgdump").stat().st_size / 1e6
        print(f"backup: {seconds:.2f} s, {size:.2f} MB ({said})")
        restored = create_app({"SECRET_KEY": "bench", "DATABASE_URL": other,
                               "PHOTO_STORE": str(folder / "restored-photos")})
        said, seconds = timed(restored, "restore", str(folder / "backup"))
        print(f"restore: {seconds:.2f} s ({said})")
    print("load average:", Path("/proc/loadavg").read_text().strip())


if __name__ == "__main__":
    main()
