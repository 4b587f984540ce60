"""gunicorn settings for `make serve`; each can be changed with the environment variable named.

HOST, PORT: where to listen (default 127.0.0.1:8000; put a TLS proxy such as nginx in front).
WORKERS: processes (default: 2 per core plus one, at most 8). THREADS: threads per process.
TIMEOUT: seconds before a stuck worker is restarted. SOCKET_TIMEOUT: seconds a client may
stall a read or write (default 30). WORKER_CONNECTIONS: connections per worker (200).
FORWARDED_ALLOW_IPS: proxies trusted to say the scheme (X-Forwarded-Proto).
LIMIT_REQUEST_LINE: longest request line in bytes (0, the default: no limit; see below).
gunicorn does not take the client's address from X-Forwarded-For: the app does, when
CIVIC_PROXY_HOPS says how many proxies are in front (1 behind the README's TLS proxy; 0, the
default, trusts none). Set both to the same proxies, and keep gunicorn reachable only
through them (HOST 127.0.0.1), or the header can be forged.
"""

import multiprocessing
import os
import socket
import struct

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

# Access lines mask secrets in URLs (manage links, api_key/token values) and drop the user
# agent and cookies; they keep the client address for abuse handling (app/web/serving_log.py).
logger_class = "app.web.serving_log.MaskingLogger"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" %(M)sms'

# Slow clients. gthread keeps idle and kept-alive connections in a poller, not in a thread;
# a thread is held only while a request is read or its answer written. Bounds on that:
# - keepalive: an idle kept-alive connection is closed after this many seconds;
# - worker_connections: most connections (busy or idle) one worker holds at once;
# - SOCKET_TIMEOUT: a read or write that makes no progress for this many seconds fails
#   and frees the thread (SO_RCVTIMEO/SO_SNDTIMEO, inherited by accepted sockets on Linux;
#   see when_ready). sendfile is off because Python's socket.sendfile() would wait for a
#   stalled reader forever; files are written by the thread in chunks instead.
# Freeing a thread is not the whole story: gthread accepts up to worker_connections and
# hands them to its threads in order, so a request that lands on a worker whose threads
# all serve stalled readers waits about (readers queued ahead / THREADS) x SOCKET_TIMEOUT.
# The app's bound on exports being sent (EXPORT_CONCURRENCY) is what keeps threads free.
# A client that reads a byte now and then is still served, slowly: the real defence is a
# buffering proxy (nginx's proxy_buffering, on by default) that takes the answer at once.
# Long request lines. FixMyStreet polls open reports with GET requests.xml and up to 1,000
# ids in service_request_id, commas encoded as %2C: about 10 KB with 7-digit ids, more than
# gunicorn's default 4,094 bytes (which answered an HTML 414) and its largest bounded value,
# 8,190. So the line is unbounded by default (LIMIT_REQUEST_LINE=0): bound it in the proxy
# in front (nginx: large_client_header_buffers 4 16k), or set LIMIT_REQUEST_LINE to at most
# 8190 where clients send fewer ids.
limit_request_line = int(os.environ.get("LIMIT_REQUEST_LINE", "0"))
keepalive = 2
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "200"))
sendfile = False
SOCKET_TIMEOUT = int(os.environ.get("SOCKET_TIMEOUT", "30"))


def when_ready(server):
    """Give the listening sockets send/receive timeouts; accepted connections inherit them.

    The send timeout is half of SOCKET_TIMEOUT: when a reader stops, the send() that fills
    the buffer waits one timeout and returns the part it wrote, then sendall() waits one more
    before it fails, so a stalled reader held the thread for twice the send timeout
    (measured: 6 s with 3 s; docs/reliability.md).
    """
    send, receive = timeval(SOCKET_TIMEOUT / 2), timeval(SOCKET_TIMEOUT)
    for listener in server.LISTENERS:
        listener.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, send)
        listener.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, receive)


def timeval(seconds):
    """``seconds`` as the C ``struct timeval`` that setsockopt expects."""
    return struct.pack("ll", int(seconds), round(seconds % 1 * 1_000_000))
