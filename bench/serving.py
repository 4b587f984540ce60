"""Start the production server (what `make serve` runs) on 127.0.0.1 for load and fault runs."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_instance(folder, settings=None):
    """Migrate and load the demo city into a fresh instance folder (or, with a
    ``DATABASE_URL`` in ``settings``, into that database)."""
    env = server_environment(folder, 0, settings=settings)
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", *command], cwd=ROOT,
                       env=env, check=True, capture_output=True)
    return env


def server_environment(folder, port, workers=4, settings=None):
    """The environment of a production server; ``settings`` (environment variables) are
    added last, e.g. the ``DATABASE_URL`` and secret key several servers share."""
    return {
        **os.environ,
        "CIVIC_INSTANCE_PATH": str(folder),
        "CIVIC_ENV_NAME": "production",
        "CIVIC_SECRET_KEY": secrets.token_urlsafe(48),
        "CIVIC_REPORT_RATE_LIMIT": "1000000 per hour",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": str(workers),
        **(settings or {}),
    }


class Server:
    """gunicorn with gunicorn.conf.py, as `make serve` starts it, in its own process group."""

    def __init__(self, folder, workers=4, settings=None, cores=None):
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = server_environment(folder, self.port, workers, settings)
        self.cores = cores
        self.process = None

    def start(self):
        """Start gunicorn; with ``cores``, it and its workers run on those CPUs only (a
        machine of that many cores)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "server.log", "w"),  # noqa: SIM115 - lives with the server
            start_new_session=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, self.cores)) if self.cores else None,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/", timeout=2).ok:
                    return self
            except requests.RequestException:  # not listening yet, or workers still booting
                time.sleep(0.2)
        raise RuntimeError("the server did not start within 30 s")

    def worker_pids(self):
        output = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                text=True).stdout
        return [int(pid) for pid in output.split()]

    def kill_hard(self):
        """kill -9 the master and every worker at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
