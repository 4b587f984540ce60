"""The statuses of a report, in workflow order, with the words a city uses for them."""

STATUSES = {
    "new": "New",
    "acknowledged": "Acknowledged",
    "in_progress": "In progress",
    "fixed": "Fixed",
    "closed": "Closed",
    "duplicate": "Duplicate",
    "rejected": "Not our responsibility",
}
OPEN_STATUSES = ("new", "acknowledged", "in_progress")
