"""The statuses of a report, in workflow order, with the words a city uses for them
(translated when shown: each label is a lazy string)."""

from flask_babel import lazy_gettext as _l

STATUSES = {
    "new": _l("New"),
    "acknowledged": _l("Acknowledged"),
    "in_progress": _l("In progress"),
    "fixed": _l("Fixed"),
    "closed": _l("Closed"),
    "duplicate": _l("Duplicate"),
    "rejected": _l("Not our responsibility"),
}
OPEN_STATUSES = ("new", "acknowledged", "in_progress")
