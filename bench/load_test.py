"""Load test: the production server under a 60 s mix of map reads, report pages and
submissions with photos, from concurrent clients on 127.0.0.1. Bounded in time and count.

Run: .venv/bin/python bench/load_test.py [--seconds 60] [--clients 16]

Prints requests/s, p50/p99 latency per kind, errors and 5xx, then checks that every
submission the server acknowledged is in the database with its photos on disk.
"""

import argparse
import io
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import Server, prepare_instance  # noqa: E402

CITY = (-118.66, 33.71, -118.16, 34.33)
MIX = [("viewport", 0.6), ("report page", 0.3), ("submission", 0.1)]
MAX_REQUESTS_PER_CLIENT = 100_000


def photo_bytes(seed):
    image = Image.effect_noise((1600, 1200), 40).convert("RGB")
    image.putpixel((seed % 1600, 0), (seed % 255, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class Client(threading.Thread):
    def __init__(self, url, deadline, seed, photo):
        super().__init__()
        self.url, self.deadline = url, deadline
        self.rng = random.Random(seed)
        self.photo = photo
        self.latencies = defaultdict(list)
        self.statuses = defaultdict(int)
        self.acknowledged = []
        self.errors = []
        self.session = requests.Session()

    def run(self):
        token = self.csrf_token()
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= self.deadline:
                break
            self.one_request(token)

    def csrf_token(self):
        return re.search(r'name="csrf_token" value="([^"]+)"',
                         self.session.get(self.url + "/report/new", timeout=30).text).group(1)

    def one_request(self, token):
        """One request of the mix, its latency and status recorded; returns the status."""
        kind = self.rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        start = time.perf_counter()
        try:
            status = getattr(self, kind.replace(" ", "_"))(token)
        except requests.RequestException as error:
            status = "connection error"
            self.errors.append(f"{kind} to {self.url}: {type(error).__name__}: {error}")
        self.latencies[kind].append((time.perf_counter() - start) * 1000)
        self.statuses[status] += 1
        return status

    def viewport(self, _token):
        lon = self.rng.uniform(CITY[0], CITY[2] - 0.02)
        lat = self.rng.uniform(CITY[1], CITY[3] - 0.02)
        bbox = f"{lon:.5f},{lat:.5f},{lon + 0.02:.5f},{lat + 0.02:.5f}"
        return self.session.get(f"{self.url}/api/reports.geojson", params={"bbox": bbox},
                                timeout=60).status_code

    def report_page(self, _token):
        report_id = self.rng.randint(1, 1000)
        return self.session.get(f"{self.url}/reports/{report_id}", timeout=60).status_code

    def report_form(self, token):
        return {"csrf_token": token, "lon": "-118.2437", "lat": "34.0522",
                "category": "pothole", "description": "Load test pothole"}

    def submission(self, token):
        response = self.session.post(f"{self.url}/report/new", data=self.report_form(token),
                                     files={"photos": ("p.jpg", self.photo)},
                                     allow_redirects=False, timeout=60)
        if response.status_code == 303:
            self.acknowledged.append(int(response.headers["Location"].rsplit("/", 1)[1]))
        return response.status_code


def verify(folder, acknowledged):
    """Every acknowledged report is stored with its photo rows and files."""
    db = sqlite3.connect(folder / "civic.sqlite3")
    stored = {r[0] for r in db.execute("SELECT id FROM reports WHERE description = ?",
                                       ["Load test pothole"])}
    missing_reports = set(acknowledged) - stored
    photo_names = [name for report_id in acknowledged for row in db.execute(
        "SELECT display_name, thumb_name FROM photos WHERE report_id = ?", [report_id])
        for name in row]
    without_photo = db.execute(
        "SELECT count(*) FROM reports r WHERE description = 'Load test pothole' AND NOT EXISTS "
        "(SELECT 1 FROM photos p WHERE p.report_id = r.id)").fetchone()[0]
    missing_files = [n for n in photo_names if not (folder / "photos" / n[:2] / n).is_file()]
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    return missing_reports, without_photo, missing_files, integrity


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        prepare_instance(folder)
        server = Server(folder, workers=args.workers).start()
        photo = photo_bytes(1)
        try:
            deadline = time.monotonic() + args.seconds
            clients = [Client(server.url, deadline, seed, photo) for seed in range(args.clients)]
            started = time.monotonic()
            for client in clients:
                client.start()
            for client in clients:
                client.join()
            elapsed = time.monotonic() - started
        finally:
            server.stop()
        report(clients, elapsed, args, len(photo))
        acknowledged = [i for c in clients for i in c.acknowledged]
        missing, without_photo, missing_files, integrity = verify(folder, acknowledged)
        print(f"acknowledged submissions: {len(acknowledged)}; missing from the database: "
              f"{len(missing)}; stored without photo: {without_photo}; photo files missing: "
              f"{len(missing_files)}; integrity_check: {integrity}")


def report(clients, elapsed, args, photo_size):
    statuses = defaultdict(int)
    latencies = defaultdict(list)
    for client in clients:
        for status, count in client.statuses.items():
            statuses[status] += count
        for kind, values in client.latencies.items():
            latencies[kind].extend(values)
    total = sum(statuses.values())
    print(f"{args.clients} clients, {args.workers} gunicorn workers x 4 threads, "
          f"{elapsed:.0f} s, photo {photo_size / 1e6:.1f} MB")
    by_status = dict(sorted(statuses.items(), key=str))
    print(f"requests: {total}, {total / elapsed:.1f}/s; statuses: {by_status}")
    for kind, values in latencies.items():
        values.sort()
        print(f"  {kind:12} n={len(values):6}  p50 {statistics.median(values):7.1f} ms  "
              f"p99 {values[int(len(values) * 0.99)]:7.1f} ms")
    server_errors = sum(c for s, c in statuses.items() if isinstance(s, int) and s >= 500)
    dropped = statuses.get("connection error", 0)
    print(f"5xx responses: {server_errors}; connection errors: {dropped}")


if __name__ == "__main__":
    main()
