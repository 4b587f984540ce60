"""Targets: how many hours a category's reports may wait to be acknowledged and to be fixed,
for every service or for one. Due times follow from them (see :mod:`app.storage.targets`)."""

import math

from app.errors import ValidationError
from app.storage import catalog
from app.storage import targets as target_rows

MAX_HOURS = 24 * 366


def set_target(db, category_code, service_code=None, acknowledge_hours=None, fix_hours=None):
    """Set the target of ``category_code`` (for ``service_code`` only, when given)."""
    category = catalog.category_by_code(db, category_code)
    if category is None:
        raise ValidationError("There is no category %(code)r.", code=category_code)
    service_id = None
    if service_code:
        service = catalog.services_by_code(db).get(service_code)
        if service is None:
            raise ValidationError("There is no service %(code)r.", code=service_code)
        service_id = service["id"]
    if acknowledge_hours is None and fix_hours is None:
        raise ValidationError("Give the hours to acknowledge, to fix, or both.")
    target_rows.set_target(db, category["id"], service_id, _hours(acknowledge_hours),
                           _hours(fix_hours))


def _hours(value):
    if value is None:
        return None
    if not (isinstance(value, int | float) and math.isfinite(value)
            and 0 < value <= MAX_HOURS):
        raise ValidationError("Hours must be a number above 0 and at most %(most)s.",
                              most=MAX_HOURS)
    return float(value)
