"""Limits for organisations that hold an Open311 API key, and Retry-After on every 429.

An integrator's server sends for many residents from one address, so a request with a valid
key is counted against the key's own budget (its ``--rate``, else OPEN311_KEY_RATE_LIMIT),
in the counters every worker shares, and not against the residents' per-IP budget.
"""

import math
import time

from flask import current_app, g, request

from app.storage import apikeys
from app.web.db import get_db

#: Seconds a 429 asks a client to wait when no counter says when its window ends.
DEFAULT_RETRY_AFTER = 60


def request_key():
    """The organisation (id, name, rate) whose valid API key this Open311 POST carries, or
    None; looked up once per request."""
    if "api_key_row" not in g:
        key = request.form.get("api_key") if request.path.startswith("/open311/") else None
        g.api_key_row = apikeys.active_key(get_db(), key) if key else None
    return g.api_key_row


def is_keyed():
    return request_key() is not None


def key_budget():
    """The key's own limit, in Flask-Limiter's syntax. Flask-Limiter asks for it before it
    knows the request is exempt (no key), so it must answer then too."""
    organisation = request_key() or {}
    return organisation.get("rate") or current_app.config["OPEN311_KEY_RATE_LIMIT"]


def key_identity():
    return f"api-key:{(request_key() or {}).get('id')}"


def add_retry_after(response, limiter):
    """after_request: a 429 without Retry-After gets the seconds until the breached
    window ends (or a minute when no window is known)."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(_seconds_left(limiter))
    return response


def _seconds_left(limiter):
    breached = limiter.current_limit
    if breached is None or not breached.breached:
        return DEFAULT_RETRY_AFTER
    return max(1, math.ceil(breached.reset_at - time.time()))
