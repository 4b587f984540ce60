"""Flask extensions created once and bound to the app in ``create_app``."""

import logging
import math
import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from limits import parse

from app.web import api_limits

csrf = CSRFProtect()
limiter = Limiter(get_remote_address)


def limits_off():
    return not current_app.config["RATE_LIMITS_ON"]


support_limit = limiter.shared_limit(
    lambda: current_app.config["SUPPORT_RATE_LIMIT"], scope="supports", exempt_when=limits_off,
)

#: One budget of new reports per client address, shared by the web form and Open311;
#: an organisation's keyed Open311 requests count against its key instead.
report_creation_limit = limiter.shared_limit(
    lambda: current_app.config["REPORT_RATE_LIMIT"], scope="report-creation",
    exempt_when=lambda: limits_off() or api_limits.is_keyed(),
)

#: Each API key's own budget (app.web.api_limits), counted across workers.
open311_key_limit = limiter.shared_limit(
    api_limits.key_budget, scope="open311-key", key_func=api_limits.key_identity,
    exempt_when=lambda: limits_off() or not api_limits.is_keyed(),
)

subscription_limit = limiter.shared_limit(
    lambda: current_app.config["SUBSCRIPTION_RATE_LIMIT"], scope="subscriptions",
    exempt_when=limits_off,
)

photo_position_limit = limiter.limit(
    lambda: current_app.config["PHOTO_POSITION_RATE_LIMIT"], exempt_when=limits_off,
)

#: Residents asking for their private links by e-mail (/reports/mine).
my_links_limit = limiter.limit(
    lambda: current_app.config["MY_LINKS_RATE_LIMIT"], exempt_when=limits_off,
)

#: Photos uploaded ahead of their report: each one is decoded and stored, so each counts.
photo_staging_limit = limiter.limit(
    lambda: current_app.config["PHOTO_STAGING_RATE_LIMIT"], exempt_when=limits_off,
)

#: Open311 servicerequestupdates: each call reads up to a thousand events.
open311_updates_limit = limiter.limit(
    lambda: current_app.config["OPEN311_UPDATES_RATE_LIMIT"], exempt_when=limits_off,
)

#: Arguments that filter an export; without any, it is the published file (app.exports).
EXPORT_FILTERS = ("bbox", "status", "category", "service", "since", "until")


def is_filtered_export():
    """Exports read the database per request only when filtered; only those are counted."""
    is_export = request.path.endswith(".csv") or "download" in request.args
    return is_export and any(request.args.get(name) for name in EXPORT_FILTERS)


export_limit = limiter.shared_limit(
    lambda: current_app.config["EXPORT_RATE_LIMIT"], scope="exports",
    exempt_when=lambda: limits_off() or not is_filtered_export(),
)


def login_allowed(budget):
    """Whether the failed logins counted under ``budget`` (an account, or a browser known to
    it) leave room for another attempt; only failures are counted (``count_login_failure``)."""
    if limits_off():
        return True
    return _failing_open(lambda limit: limiter.limiter.test(limit, "login-failures", budget),
                         True)


def login_retry_after(budget):
    """Seconds until the failed-login window of ``budget`` ends, for Retry-After."""
    return _failing_open(lambda limit: max(1, math.ceil(
        limiter.limiter.get_window_stats(limit, "login-failures", budget).reset_time
        - time.time())), api_limits.DEFAULT_RETRY_AFTER)


def count_login_failure(budget):
    if not limits_off():
        _failing_open(lambda limit: limiter.limiter.hit(limit, "login-failures", budget), None)


def _failing_open(action, otherwise):
    """Like the other limits, an unusable counter file lets staff log in rather than none."""
    try:
        return action(parse(current_app.config["LOGIN_FAILURE_LIMIT"]))
    except limiter.storage.base_exceptions:
        logging.getLogger(__name__).exception("Login failure counters unavailable")
        return otherwise
