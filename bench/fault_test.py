"""Fault test: kill -9 a worker, then the whole server, in the middle of a stream of
submissions with photos; restart; check that nothing acknowledged was lost.

Run: .venv/bin/python bench/fault_test.py [--seconds 12] [--clients 4]

Prints the acknowledged submissions, PRAGMA integrity_check, acknowledged reports missing,
reports without their photo, photo rows without a file, and the orphan photo files (written
by a request that was killed before its commit) that `flask --app app photos gc` removes.
"""

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_test import Client, photo_bytes  # noqa: E402
from serving import ROOT, Server, prepare_instance  # noqa: E402

DESCRIPTION = "Load test pothole"


class Submitter(Client):
    """Only submissions, and it keeps going through connection errors while the server is down."""

    def run(self):
        token = None
        while time.monotonic() < self.deadline:
            try:
                if token is None:
                    token = self.csrf_token()
                status = self.submission(token)
            except Exception:  # noqa: BLE001 - the server is being killed on purpose
                status = "connection error"
                time.sleep(0.1)
            self.statuses[status] += 1

    def submission(self, token):
        """Each submission has photos of its own, so a killed write can leave an orphan."""
        self.photo = photo_bytes(self.rng.randint(0, 10**6))
        return super().submission(token)

    def csrf_token(self):
        page = self.session.get(self.url + "/report/new", timeout=10).text
        return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def photo_files(folder):
    return {p.name for p in (folder / "photos").glob("*/*.jpg")}


def check(folder, acknowledged):
    db = sqlite3.connect(folder / "civic.sqlite3")
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    stored = {r[0] for r in db.execute("SELECT id FROM reports WHERE description = ?",
                                       [DESCRIPTION])}
    without_photo = db.execute(
        "SELECT count(*) FROM reports r WHERE description = ? AND NOT EXISTS "
        "(SELECT 1 FROM photos p WHERE p.report_id = r.id)", [DESCRIPTION]).fetchone()[0]
    referenced = {n for row in db.execute("SELECT display_name, thumb_name FROM photos")
                  for n in row}
    db.close()
    on_disk = photo_files(folder)
    return {
        "integrity_check": integrity,
        "acknowledged missing": len(set(acknowledged) - stored),
        "reports without their photo": without_photo,
        "photo rows without a file": len(referenced - on_disk),
        "orphan photo files": len(on_disk - referenced),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        prepare_instance(folder)
        server = Server(folder, workers=2).start()
        deadline = time.monotonic() + args.seconds
        photos = [photo_bytes(seed) for seed in range(args.clients)]
        clients = [Submitter(server.url, deadline, seed, photos[seed])
                   for seed in range(args.clients)]
        for client in clients:
            client.start()
        time.sleep(args.seconds / 4)
        worker = server.worker_pids()[0]
        subprocess.run(["kill", "-9", str(worker)], check=True)
        print(f"kill -9 worker {worker}")
        time.sleep(args.seconds / 4)
        server.kill_hard()
        print("kill -9 the whole server (master and workers)")
        time.sleep(1)
        server.start()
        print("server restarted")
        for client in clients:
            client.join()
        server.stop()
        acknowledged = [i for c in clients for i in c.acknowledged]
        statuses = {}
        for client in clients:
            for status, count in client.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        print(f"submissions: {dict(sorted(statuses.items(), key=str))}; acknowledged "
              f"(303): {len(acknowledged)}")
        print("after the faults:", check(folder, acknowledged))
        gc = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "photos", "gc"],
                            cwd=ROOT, env=server.env, capture_output=True, text=True, check=True)
        print("photos gc:", gc.stdout.strip())
        print("after photos gc:", check(folder, acknowledged))


if __name__ == "__main__":
    main()
