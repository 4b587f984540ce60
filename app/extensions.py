"""Flask extensions created once and bound to the app in ``create_app``."""

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
limiter = Limiter(get_remote_address)


def limits_off():
    return not current_app.config["RATE_LIMITS_ON"]


support_limit = limiter.shared_limit(
    lambda: current_app.config["SUPPORT_RATE_LIMIT"], scope="supports", exempt_when=limits_off,
)

#: One budget of new reports per client address, shared by the web form and Open311.
report_creation_limit = limiter.shared_limit(
    lambda: current_app.config["REPORT_RATE_LIMIT"], scope="report-creation",
    exempt_when=limits_off,
)

subscription_limit = limiter.shared_limit(
    lambda: current_app.config["SUBSCRIPTION_RATE_LIMIT"], scope="subscriptions",
    exempt_when=limits_off,
)

photo_position_limit = limiter.limit(
    lambda: current_app.config["PHOTO_POSITION_RATE_LIMIT"], exempt_when=limits_off,
)

#: Open311 servicerequestupdates: each call reads up to a thousand events.
open311_updates_limit = limiter.limit(
    lambda: current_app.config["OPEN311_UPDATES_RATE_LIMIT"], exempt_when=limits_off,
)
