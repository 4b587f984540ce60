"""gunicorn settings for `make serve`; each can be changed with the environment variable named.

HOST, PORT: where to listen (default 127.0.0.1:8000; put a TLS proxy such as nginx in front).
WORKERS: processes (default: 2 per core plus one, at most 8). THREADS: threads per process.
TIMEOUT: seconds before a stuck worker is restarted. FORWARDED_ALLOW_IPS: proxies trusted to
say the scheme (X-Forwarded-Proto). gunicorn does not take the client's address from
X-Forwarded-For: the app does, when CIVIC_PROXY_HOPS says how many proxies are in front (1
behind the README's TLS proxy; 0, the default, trusts none). Set both to the same proxies,
and keep gunicorn reachable only through them (HOST 127.0.0.1), or the header can be forged.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WORKERS", min(8, 2 * multiprocessing.cpu_count() + 1)))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
timeout = int(os.environ.get("TIMEOUT", "60"))
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
