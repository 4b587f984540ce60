"""FixMyStreet's poll of its open reports: GET requests.xml with 1,000 ids in
service_request_id, beside the same page of 1,000 requests found by date (the baseline,
measured in the same run), over a large database, through the whole HTTP request.

Run: .venv/bin/python bench/open311_poll_bench.py [--reports N] [--runs N]

The ids are seven digits, spread over the whole table (every Nth report), as a client that
sent reports over years would hold them; commas are encoded (%2C), as FixMyStreet's URI
library sends them, so the request line is about 10 KB.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.storage import upgrade  # noqa: E402
from app.web.db import get_db  # noqa: E402

FIRST_ID = 1_000_000
SEED = """
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count - 1)
    INSERT INTO reports (id, category_id, service_id, area_id, boundary_version_id, lon, lat,
                         description, status, created_at, updated_at, token)
    SELECT :first + i, t.category_id, t.service_id, t.area_id, t.boundary_version_id, t.lon,
           t.lat, 'Benchmark report', 'new',
           strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', printf('-%d minutes', i % 120000)),
           strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', printf('-%d minutes', i % 120000)),
           lower(hex(randomblob(16)))
    FROM n, (SELECT * FROM reports ORDER BY id LIMIT 1) t
"""


def build(folder, reports):
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "RATE_LIMITS_ON": False,
                      "DATABASE": str(folder / "bench.sqlite3"),
                      "PHOTO_STORE": str(folder / "photos"),
                      "RATE_LIMIT_DATABASE": str(folder / "limits.sqlite3")})
    with app.app_context():
        db = get_db()
        upgrade(db)
        load_demo(db)
        with db.atomic():
            db.execute(SEED, {"count": reports, "first": FIRST_ID})
    return app


def timings(client, url, runs):
    times, found = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.data[:200]
        found = response.data.count(b"<request>")
    return found, statistics.median(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        app = build(Path(folder), args.reports)
        print(f"seeded {args.reports:,} reports in {time.perf_counter() - started:.1f} s")
        step = max(1, args.reports // 1000)
        ids = ",".join(str(FIRST_ID + n * step) for n in range(min(1000, args.reports)))
        poll = f"/open311/v2/requests.xml?service_request_id={quote(ids, safe='')}"
        cases = {"baseline: newest 1,000 by date": "/open311/v2/requests.xml",
                 "1,000 ids (FixMyStreet's poll)": poll}
        print(f"request line of the poll: {len(poll) + len('GET  HTTP/1.1')} bytes")
        client = app.test_client()
        for name, url in cases.items():
            found, p50, worst = timings(client, url, args.runs)
            print(f"{name}: {found} requests, p50 {p50:.1f} ms, max {worst:.1f} ms")


if __name__ == "__main__":
    main()
