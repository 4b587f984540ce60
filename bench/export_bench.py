"""Export benchmark: how long a small request waits while 8 clients download every report.

Run: .venv/bin/python bench/export_bench.py [--reports 200000] [--exports 8]
     .venv/bin/python bench/export_bench.py --reports 200000 --slow-readers 24

Seeds N reports over the demo city, serves them with gunicorn (gunicorn.conf.py, 4 workers)
on 127.0.0.1 and, while ``--exports`` clients each download the whole CSV at once, asks for
one report page over and over (the probe). Two servers, same database, same run:

- before: every download streamed from the database, as all of them were before issue 13
  (a filter that matches every report still streams; its new limits are lifted here);
- after: the published file (``exports refresh`` first), served with ETag/Last-Modified.

Each client keeps downloading for ``--seconds`` (finishing the download in hand). Prints the
probe's latency (p50, p95, max) idle and during the downloads, and the downloads' count,
size and time.

With ``--slow-readers N``, N clients instead ask for the full export and then stop reading
(a tiny receive buffer, nothing read): the probe runs for ``--seconds`` while they hang on,
on a new connection each time (a kept-alive one would stay on whichever worker it met first).
Before: no bound on exports being sent at once (EXPORT_CONCURRENCY lifted), so each stalled
client holds a thread until SOCKET_TIMEOUT; after: the default bound per worker.
"""

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from map_bench import STATUSES, seed  # noqa: E402
from serving import Server  # noqa: E402

from app import create_app
from app.reporting import exports  # noqa: E402
from app.storage import upgrade  # noqa: E402
from app.web.db import get_db  # noqa: E402
from app.web.links import SiteLinks  # noqa: E402

EVERY_STATUS = ",".join([*STATUSES, "duplicate", "rejected"])
PROBE_SECONDS_IDLE = 5


def build_instance(folder, count):
    app = create_app({"SECRET_KEY": "bench", "DATABASE": str(folder / "civic.sqlite3"),
                      "PHOTO_STORE": str(folder / "photos"), "PUBLIC_URL": "http://bench.local"})
    with app.app_context():
        upgrade(get_db())
        stored = seed(get_db(), count, np.random.default_rng(13))
        started = time.perf_counter()
        exports.refresh(app, get_db(), SiteLinks(app))
        written = time.perf_counter() - started
    return app, stored, written


class Probe(threading.Thread):
    """GET one report page again and again until stopped; keeps each latency in ms."""

    def __init__(self, url, new_connections=False):
        super().__init__()
        self.url, self.latencies, self.errors = url, [], 0
        self.new_connections = new_connections
        self.stop = threading.Event()

    def run(self):
        session = requests.Session()
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                if self.new_connections:  # another client each time, on whichever worker
                    session.close()
                ok = session.get(self.url, timeout=120).status_code == 200
            except requests.RequestException:
                ok = False
            self.errors += not ok
            self.latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)


def download(url, results, deadline):
    """Download the whole export again and again until ``deadline`` (at least once)."""
    session = requests.Session()
    while True:
        started = time.perf_counter()
        size = 0
        with session.get(url, stream=True, timeout=600) as response:
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
            status = response.status_code
        results.append((status, size, time.perf_counter() - started))
        if time.monotonic() >= deadline:
            return


def probe_during(server, export_url, clients, seconds):
    """The probe's latencies idle, then while ``clients`` download ``export_url`` for
    ``seconds`` (each finishes the download in hand)."""
    idle = Probe(f"{server.url}/reports/17")
    idle.start()
    time.sleep(PROBE_SECONDS_IDLE)
    idle.stop.set()
    idle.join()
    probe, results = Probe(f"{server.url}/reports/17"), []
    deadline = time.monotonic() + seconds
    downloads = [threading.Thread(target=download, args=(export_url, results, deadline))
                 for _ in range(clients)]
    probe.start()
    for thread in downloads:
        thread.start()
    for thread in downloads:
        thread.join()
    probe.stop.set()
    probe.join()
    return idle, probe, results


def stalled_readers(server, path, count):
    """``count`` clients that ask for ``path`` and never read a byte of the answer."""
    sockets = []
    for _ in range(count):
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(("127.0.0.1", server.port))
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sockets.append(client)
    return sockets


def probe_beside_stalled_readers(server, path, count, seconds):
    """The probe's latencies idle, then for ``seconds`` while ``count`` readers stall."""
    idle = Probe(f"{server.url}/reports/17")
    idle.start()
    time.sleep(PROBE_SECONDS_IDLE)
    idle.stop.set()
    idle.join()
    readers = stalled_readers(server, path, count)
    time.sleep(1)  # let every worker take its share of them
    probe = Probe(f"{server.url}/reports/17", new_connections=True)
    probe.start()
    time.sleep(seconds)
    probe.stop.set()
    probe.join()
    for reader in readers:
        reader.close()
    return idle, probe


def summary(latencies):
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (f"n={len(ordered):4}  p50 {statistics.median(ordered):8.1f} ms  "
            f"p95 {p95:8.1f} ms  max {ordered[-1]:8.1f} ms")


def report(name, idle, probe, results):
    print(f"{name}:")
    print(f"  probe idle            {summary(idle.latencies)}")
    print(f"  probe during exports  {summary(probe.latencies)}  errors {probe.errors}")
    statuses = sorted({status for status, _, _ in results})
    times = [seconds for _, _, seconds in results]
    sizes = {size for _, size, _ in results}
    print(f"  {len(results)} downloads: status {statuses}, {max(sizes) / 1e6:.1f} MB each, "
          f"{min(times):.1f} to {max(times):.1f} s")


def serve(folder, **settings):
    server = Server(folder)
    server.env.update({f"CIVIC_{name}": value for name, value in settings.items()})
    return server.start()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--exports", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=30,
                        help="How long the clients keep downloading (each at least once).")
    parser.add_argument("--slow-readers", type=int, default=0,
                        help="Measure this many clients that stop reading, instead.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        _app, stored, written = build_instance(folder, args.reports)
        print(f"{stored} reports seeded in {time.perf_counter() - started:.0f} s; "
              f"full exports written in {written:.1f} s")
        lifted = {"EXPORT_RATE_LIMIT": "1000000 per hour", "EXPORT_CONCURRENCY": "1000",
                  "PUBLIC_URL": "http://bench.local"}
        if args.slow_readers:
            compare_slow_readers(folder, lifted, args.slow_readers, args.seconds)
            return
        before = serve(folder, **lifted)
        try:
            measured = probe_during(before, f"{before.url}/api/reports.csv?status={EVERY_STATUS}",
                                    args.exports, args.seconds)
        finally:
            before.stop()
        report("before (streamed from the database)", *measured)
        after = serve(folder, PUBLIC_URL="http://bench.local")
        try:
            measured = probe_during(after, f"{after.url}/api/reports.csv", args.exports,
                                    args.seconds)
        finally:
            after.stop()
        report("after (the published file)", *measured)


def compare_slow_readers(folder, lifted, count, seconds):
    for name, settings in (("before (no bound on exports being sent)", lifted),
                           ("after (EXPORT_CONCURRENCY per worker)",
                            {"PUBLIC_URL": "http://bench.local"})):
        server = serve(folder, **settings)
        try:
            idle, probe = probe_beside_stalled_readers(server, "/api/reports.csv", count, seconds)
        finally:
            server.stop()
        print(f"{name}, {count} stalled readers:")
        print(f"  probe idle            {summary(idle.latencies)}")
        print(f"  probe beside them     {summary(probe.latencies)}  errors {probe.errors}")


if __name__ == "__main__":
    main()
