"""The statuses of a report, in workflow order, with the words a city uses for them
(translated when shown: each label is a lazy string), and the changes allowed between them."""

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

#: The statuses each status may move to (the workflow adds the reasons each one needs).
TRANSITIONS = {
    "new": {"acknowledged", "in_progress", "fixed", "closed", "duplicate", "rejected"},
    "acknowledged": {"in_progress", "fixed", "closed", "duplicate", "rejected"},
    "in_progress": {"acknowledged", "fixed", "closed", "duplicate", "rejected"},
    "fixed": {"new", "in_progress", "closed"},
    "closed": {"new", "acknowledged", "in_progress"},
    "duplicate": {"new", "acknowledged"},
    "rejected": {"new", "acknowledged"},
}


def next_statuses(status):
    """The statuses a report in ``status`` may move to, in workflow order.

    >>> next_statuses("fixed")
    ['new', 'in_progress', 'closed']
    """
    return [name for name in STATUSES if name in TRANSITIONS[status]]
