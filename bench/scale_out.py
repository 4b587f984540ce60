"""Scale-out proof (issue 22): two production servers and two outbox workers over one
PostgreSQL + PostGIS database, under the load test's mix, with kill -9 of one of each.

Run: .venv/bin/python bench/scale_out.py [--seconds 25] [--clients 16] [--workers 4]
                                         [--engine postgresql|sqlite] [--pin]

One throwaway PostgreSQL cluster (unix socket only, durable settings) holds the demo city and
three confirmed alert subscriptions around the point the load test reports at. Two gunicorn
servers as `make serve` starts them stand for two machines: 127.0.0.1 on two ports, one
secret key, one photo folder (the shared mount), each its own instance folder. Two
`flask --app app outbox send --forever` workers send to an SMTP sink on 127.0.0.1. Load
(bench/load_test.py's mix; each submission gives the reporter's private-link e-mail and
three alerts) runs in three phases of --seconds each, the clients going round the servers
in service as a load balancer would:
1. one server (A) alone; 2. both servers; then a login budget is spent across the two;
3. both servers, and a third of the way in, kill -9 of server A (taken out of the rotation)
   and of worker A while it sends a message (the sink holds that message unanswered).
Then the outbox drains and every check prints PASS or FAIL: no 5xx; every acknowledged
submission stored with its photo; one login budget; each e-mail received once, matching the
outbox; the other server answering after the kill; the dead worker's message sent by the
other worker after its lease.
"""

import argparse
import asyncio
import contextlib
import email
import email.policy
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests
from urllib3.util.retry import Retry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_test import Client, photo_bytes  # noqa: E402
from pg_cluster import start_cluster  # noqa: E402
from serving import ROOT, Server, prepare_instance, server_environment  # noqa: E402

from app.storage import open_database  # noqa: E402
from app.storage import subscriptions as subscription_rows  # noqa: E402
from tests.receivers import SmtpSink  # noqa: E402

DESCRIPTION = "Load test pothole"
SUBSCRIBERS = 3
LEASE_SECONDS = 15
LOGIN_FAILURES = 6
LOGINS_PER_MINUTE = 12
SENDERS = {"a": "worker-a@bench.example", "b": "worker-b@bench.example"}


class Balancer:
    """The load balancer in front: requests go round the servers in service; a dead server is
    taken out, as a health check would."""

    def __init__(self, urls):
        self.urls = list(urls)
        self._turns = itertools.count()

    def pick(self):
        urls = self.urls
        return urls[next(self._turns) % len(urls)]

    def remove(self, url):
        self.urls = [u for u in self.urls if u != url]


#: GETs sent again, by server: once each, when a kept-alive connection failed under them.
RETRIED = Counter()


class RetryOnce(Retry):
    """One more try of a GET whose kept-alive connection the server closed as it was reused
    (gunicorn's 2 s ``keepalive`` racing the client), as browsers do; counted in RETRIED.
    POSTs are never sent twice."""

    def increment(self, method=None, url=None, *args, _pool=None, **kwargs):
        if _pool is not None:
            RETRIED[f"http://{_pool.host}:{_pool.port}"] += 1
        return super().increment(method, url, *args, _pool=_pool, **kwargs)


class BalancedClient(Client):
    """The load test's client, each request sent to the server the balancer picks; each
    report carries an e-mail of its own, so each has a private-link e-mail to send."""

    def __init__(self, balancer, deadline, seed, photo):
        super().__init__(balancer.pick(), deadline, seed, photo)
        self.balancer, self.seed = balancer, seed
        self.by_server = Counter()
        self.numbers = itertools.count()
        retry = RetryOnce(total=1, connect=1, read=1, status=0, other=0, redirect=0,
                          allowed_methods=frozenset({"GET"}), raise_on_status=False)
        self.session.mount("http://", requests.adapters.HTTPAdapter(max_retries=retry))

    def run(self):
        token = self.csrf_token()
        while time.monotonic() < self.deadline:
            self.url = self.balancer.pick()
            self.by_server[self.url, self.one_request(token)] += 1

    def report_form(self, token):
        return {**super().report_form(token),
                "email": f"resident-{self.seed}-{next(self.numbers)}@bench.example"}


class HoldingSink(SmtpSink):
    """The SMTP sink, noting which worker sent each message; ``hold(sender)`` makes it keep
    that worker's next message unanswered (the worker is then killed mid-send), and never
    count it as received."""

    def __init__(self):
        super().__init__()
        self.received = []
        self.held = threading.Event()
        self.held_message_id = None
        self._hold_sender = None

    def hold(self, sender):
        self._hold_sender = sender

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if envelope.mail_from == self._hold_sender:
            self._hold_sender, self.held_message_id = None, message["Message-ID"]
            self.held.set()
            await asyncio.sleep(10)  # its worker is killed meanwhile: nobody hears the answer
            return "451 Not taken"
        self.received.append((envelope.mail_from, message["Message-ID"], time.time()))
        return "250 Message accepted"


class OutboxWorker:
    """`flask --app app outbox send --forever` in its own process, as on a worker machine."""

    def __init__(self, folder, name, settings):
        folder.mkdir(parents=True, exist_ok=True)
        self.sender = SENDERS[name]
        self.env = {**server_environment(folder, 0, settings=settings),
                    "CIVIC_MAIL_SENDER": f"Worker {name.upper()} <{self.sender}>"}
        self.log = folder / "worker.log"
        self.process = None

    def start(self):
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "outbox", "send", "--forever"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        return self

    def kill_hard(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


@dataclass
class Phase:
    name: str
    clients: list
    seconds: float
    load: float

    def statuses(self):
        total = Counter()
        for client in self.clients:
            total.update(client.statuses)
        return total

    def acknowledged(self):
        return [i for c in self.clients for i in c.acknowledged]

    def by_server(self):
        total = Counter()
        for client in self.clients:
            total.update(client.by_server)
        return total

    def server_errors(self):
        return sum(n for s, n in self.statuses().items() if isinstance(s, int) and s >= 500)

    def describe(self):
        statuses = self.statuses()
        by_status = dict(sorted(statuses.items(), key=str))
        total = sum(statuses.values())
        acknowledged = len(self.acknowledged())
        lines = [f"{self.name}: {total} requests in {self.seconds:.0f} s, "
                 f"{total / self.seconds:.1f} requests/s, {acknowledged} submissions "
                 f"acknowledged, {acknowledged / self.seconds:.2f} submissions/s "
                 f"(load average {self.load:.2f}); statuses {by_status}"]
        kinds = {}
        for client in self.clients:
            for kind, values in client.latencies.items():
                kinds.setdefault(kind, []).extend(values)
        lines += [f"    {kind:12} n={len(v):5}  p50 {statistics.median(v):7.1f} ms"
                  for kind, v in sorted(kinds.items())]
        lines += [f"    {error}" for error in [e for c in self.clients for e in c.errors][:5]]
        return "\n".join(lines)


def run_phase(name, balancer, args, photo, seed, during=None):
    """The mix from ``args.clients`` clients for ``args.seconds``; ``during`` runs meanwhile
    (the faults) and its result is returned with the phase."""
    deadline = time.monotonic() + args.seconds
    clients = [BalancedClient(balancer, deadline, seed + n, photo) for n in range(args.clients)]
    started = time.monotonic()
    for client in clients:
        client.start()
    outcome = during() if during else None
    for client in clients:
        client.join()
    phase = Phase(name, clients, time.monotonic() - started, os.getloadavg()[0])
    print(phase.describe(), flush=True)
    return phase, outcome


def shared_settings(database_settings, folder, mail_port):
    """What every server and worker is given: one database, one secret key, one photo store."""
    return {
        **database_settings,
        "CIVIC_SECRET_KEY": "scale-out-" + os.urandom(16).hex(),
        "CIVIC_PHOTO_STORE": str(folder / "shared-photos"),
        "CIVIC_PUBLIC_URL": "http://127.0.0.1:8000",
        "CIVIC_MAIL_SERVER": "127.0.0.1",
        "CIVIC_MAIL_PORT": str(mail_port),
        "CIVIC_MAIL_TIMEOUT_SECONDS": "5",
        "CIVIC_OUTBOX_POLL_SECONDS": "1",
        "CIVIC_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "CIVIC_LOGIN_FAILURE_LIMIT": f"{LOGIN_FAILURES} per hour",
        "CIVIC_LOGIN_RATE_LIMIT": f"{LOGINS_PER_MINUTE} per minute",
    }


@contextlib.contextmanager
def database(target):
    """The database every server and worker uses, opened by the app's own storage."""
    db = open_database(target)
    try:
        yield db
    finally:
        db.close()


def subscribe_alerts(url):
    """Confirmed alerts within 1 km of where the load test reports: three e-mails a report."""
    with database(url) as db:
        for n in range(SUBSCRIBERS):
            subscription_id = subscription_rows.insert(db, {
                "email": f"neighbour-{n}@bench.example", "locale": "en",
                "token": f"bench-alert-{n}", "kind": "radius", "lon": -118.2437,
                "lat": 34.0522, "radius_m": 1000.0})
            subscription_rows.confirm(db, subscription_id)


def failed_login(session, url, email):
    page = session.get(url + "/login", timeout=30).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return session.post(url + "/login", data={"csrf_token": token, "email": email,
                                              "password": "not the password"},
                        allow_redirects=False, timeout=30).status_code


def login_budgets(servers):
    """Failed logins alternating between the servers: an account's failure budget, then the
    address's login budget, each spent across both; the next attempt is 429 on each server."""
    session = requests.Session()
    urls = [s.url for s in servers]
    account = [failed_login(session, urls[n % 2], "staff@bench.example")
               for n in range(LOGIN_FAILURES)]
    account_after = [failed_login(session, u, "staff@bench.example") for u in urls]
    spent = LOGIN_FAILURES + len(urls)
    address = [failed_login(session, urls[n % 2], f"other-{n}@bench.example")
               for n in range(LOGINS_PER_MINUTE - spent)]
    address_after = [failed_login(session, u, "another@bench.example") for u in urls]
    print(f"login budgets across both servers: {LOGIN_FAILURES} failures of one account "
          f"{account}, then {account_after}; the address's {LOGINS_PER_MINUTE}/minute: "
          f"{address}, then {address_after}", flush=True)
    return (set(account) == {401} and account_after == [429, 429]
            and set(address) == {401} and address_after == [429, 429])


def inject_faults(balancer, server, worker, sink, url, delay):
    """kill -9 the server (then out of the rotation) and the worker while it sends."""
    time.sleep(delay)
    server.kill_hard()
    balancer.remove(server.url)
    killed_server_at = time.time()
    print(f"kill -9 server A (master and workers) at +{delay:.0f} s", flush=True)
    sink.hold(worker.sender)
    if not sink.held.wait(30):
        print("worker A sent nothing within 30 s: not killed", flush=True)
        return {"server killed at": killed_server_at, "held": None}
    worker.kill_hard()
    with database(url) as db:
        row = next(r for r in db.execute(
            "SELECT id, state, attempts, claimed_until, headers FROM outbox "
            "WHERE channel = 'email'") if message_id(r[4]) == sink.held_message_id)
    print(f"kill -9 worker A while it sent outbox message {row[0]} ({row[1]}, attempt "
          f"{row[2]}, leased until {row[3]})", flush=True)
    return {"server killed at": killed_server_at, "held": sink.held_message_id,
            "row": row[0], "lease until": row[3]}


def message_id(headers):
    return json.loads(headers or "{}").get("Message-ID")


def wait_for_outbox(url, timeout):
    """Wait until every event is planned and no message is pending; the seconds it took."""
    started = time.monotonic()
    with database(url) as db:
        while time.monotonic() - started < timeout:
            pending, behind = db.execute(
                "SELECT (SELECT count(*) FROM outbox WHERE state = 'pending'), "
                "(SELECT coalesce(max(id), 0) FROM report_events) - "
                "(SELECT event_id FROM outbox_cursor WHERE name = 'events')").fetchone()
            if pending == 0 and behind == 0:
                return time.monotonic() - started
            time.sleep(1)
    return None


def stored_submissions(url, photo_dir, acknowledged):
    """Acknowledged reports missing, stored without a photo, and photo files missing."""
    with database(url) as db:
        photos = {}
        for report_id, display, thumb in db.execute(
                "SELECT r.id, p.display_name, p.thumb_name FROM reports r "
                "LEFT JOIN photos p ON p.report_id = r.id WHERE r.description = ?",
                [DESCRIPTION]):
            photos.setdefault(report_id, []).extend(n for n in (display, thumb) if n)
    missing = [i for i in acknowledged if i not in photos]
    without_photo = [i for i in acknowledged if i in photos and not photos[i]]
    files = [n for i in acknowledged for n in photos.get(i, [])]
    missing_files = [n for n in files if not (photo_dir / n[:2] / n).is_file()]
    return missing, without_photo, missing_files


def deliveries(url, sink, fault):
    """The outbox's e-mails against what the sink received: states, duplicates, strays, and
    the dead worker's message (sent once, by the other worker, after its lease)."""
    with database(url) as db:
        rows = list(db.execute(
            "SELECT id, state, attempts, sent_at, headers FROM outbox WHERE channel = 'email'"))
    states = Counter(r[1] for r in rows)
    received = Counter(m for _, m, _ in sink.received)
    expected = {message_id(r[4]) for r in rows}
    facts = {
        "outbox e-mails": dict(states), "received": len(sink.received),
        "received twice or more": sum(1 for n in received.values() if n > 1),
        "received but not in the outbox": len(set(received) - expected),
        "in the outbox but not received": len(expected - set(received)),
    }
    held = fault.get("held")
    if held:
        row = next(r for r in rows if message_id(r[4]) == held)
        senders = [s for s, m, _ in sink.received if m == held]
        facts["dead worker's message"] = {
            "sent by": senders, "attempts": row[2], "sent_at": row[3],
            "lease until": fault["lease until"],
            "after the lease": bool(row[3]) and (datetime.fromisoformat(row[3])
                                                 >= datetime.fromisoformat(fault["lease until"]))}
    return facts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=25, help="length of each load phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per server")
    parser.add_argument("--pg-port", type=int, default=55741)
    parser.add_argument("--engine", choices=("postgresql", "sqlite"), default="postgresql",
                        help="sqlite: the two servers share one file on this machine (a "
                             "baseline, not a set-up for two machines)")
    parser.add_argument("--pin", action="store_true",
                        help="each server on a CPU of its own (A on 0, B on 1), standing for "
                             "two one-core machines; without it both share every core, where "
                             "a second server has no CPU to add")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-out-")))
        url, database_settings = the_database(args, folder, stack)
        sink = HoldingSink().start()
        stack.callback(sink.stop)
        settings = shared_settings(database_settings, folder, sink.port)
        for name in ("a", "b"):
            (folder / name).mkdir()
        prepare_instance(folder / "a", settings)
        subscribe_alerts(url)
        cores = ({0}, {1}) if args.pin else (None, None)
        servers = [Server(folder / name, args.workers, settings, core)
                   for name, core in zip("ab", cores, strict=True)]
        workers = [OutboxWorker(folder / f"worker-{name}", name, settings) for name in "ab"]
        for process in (*servers, *workers):
            stack.callback(process.stop)
            process.start()
        print(f"{args.engine}; servers A {servers[0].url} and "
              f"B {servers[1].url}{' (A on CPU 0, B on CPU 1)' if args.pin else ''}, "
              f"{args.workers} gunicorn workers x 4 threads each; 2 outbox "
              f"workers; {args.clients} clients; lease {LEASE_SECONDS} s", flush=True)
        photo = photo_bytes(1)
        one, _ = run_phase("one server", Balancer([servers[0].url]), args, photo, 0)
        two, _ = run_phase("two servers", Balancer([s.url for s in servers]), args, photo, 1000)
        logins_shared = login_budgets(servers)
        balancer = Balancer([s.url for s in servers])
        faults, fault = run_phase("two servers, kill -9 of A mid-run", balancer, args, photo,
                                  2000, lambda: inject_faults(balancer, servers[0], workers[0],
                                                              sink, url, args.seconds / 3))
        drained = wait_for_outbox(url, LEASE_SECONDS + 120)
        print("outbox not drained" if drained is None
              else f"outbox drained {drained:.0f} s after the load", flush=True)
        for process in (*workers, *servers):
            process.stop()
        phases = (one, two, faults)
        acknowledged = [i for p in phases for i in p.acknowledged()]
        missing, without_photo, missing_files = stored_submissions(
            url, folder / "shared-photos", acknowledged)
        mail = deliveries(url, sink, fault)
        survivor = Counter({s: n for (u, s), n in faults.by_server().items()
                            if u == servers[1].url})
        victim = Counter({s: n for (u, s), n in faults.by_server().items()
                          if u == servers[0].url})
        print(f"after the kill, server B answered {dict(survivor)}; requests to A: "
              f"{dict(victim)}")
        print(f"GETs retried once after a kept-alive connection failed: {dict(RETRIED)}")
        print(f"e-mail: {mail}")
        print(f"two servers vs one: {two_vs_one(one, two)}")
        held = mail.get("dead worker's message", {})
        checks = [
            ("no 5xx", sum(p.server_errors() for p in phases) == 0,
             f"{sum(p.server_errors() for p in phases)} 5xx"),
            ("no connection error but those to the killed server",
             sum(p.statuses()["connection error"] for p in (one, two)) == 0
             and survivor["connection error"] == 0,
             f"{victim['connection error']} to A when it was killed"),
            ("every acknowledged submission stored with its photo",
             not (missing or without_photo or missing_files),
             f"{len(acknowledged)} acknowledged; {len(missing)} missing, {len(without_photo)} "
             f"without photo, {len(missing_files)} photo files missing"),
            ("one login budget across both servers", logins_shared, ""),
            ("the other server carried on", sum(n for s, n in survivor.items() if s in (200, 303))
             > 0, f"{survivor[200] + survivor[303]} answers from B in the fault phase"),
            ("outbox drained", drained is not None, ""),
            ("each e-mail received once, as the outbox says",
             mail["received twice or more"] == 0 and mail["received but not in the outbox"] == 0
             and mail["in the outbox but not received"] == 0
             and set(mail["outbox e-mails"]) == {"sent"},
             f"{mail['received']} received, outbox {mail['outbox e-mails']}"),
            ("the dead worker's message sent once by the other worker after its lease",
             held.get("sent by") == [SENDERS["b"]] and held.get("after the lease") is True,
             str(held)),
        ]
        for name, ok, detail in checks:
            print(f"{'PASS' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}")
        passed = all(ok for _, ok, _ in checks)
        print("PASS" if passed else "FAIL")
    sys.exit(0 if passed else 1)


def the_database(args, folder, stack):
    """The database's target (for the checks) and the settings naming it: a throwaway
    PostgreSQL cluster, removed at the end; or one SQLite file (and one rate-limit file)."""
    if args.engine == "sqlite":
        return folder / "civic.sqlite3", {
            "CIVIC_DATABASE": str(folder / "civic.sqlite3"),
            "CIVIC_RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3")}
    cluster = start_cluster(args.pg_port)
    stack.callback(cluster.stop)
    url = cluster.create_database("civic")
    return url, {"DATABASE_URL": url}


def two_vs_one(one, two):
    rates = [(sum(p.statuses().values()) / p.seconds, len(p.acknowledged()) / p.seconds)
             for p in (one, two)]
    return (f"{rates[1][0]:.1f} vs {rates[0][0]:.1f} requests/s "
            f"({rates[1][0] / rates[0][0]:.2f}x), {rates[1][1]:.2f} vs {rates[0][1]:.2f} "
            f"submissions/s")


if __name__ == "__main__":
    main()
