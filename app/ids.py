"""Numbers that come from clients and go to SQLite: row ids and list pages."""

#: The largest row id SQLite can store; larger numbers from a client are refused, not sent.
SQLITE_MAX_INTEGER = 2**63 - 1
MAX_PAGE = 100_000


def row_id(value):
    """``value`` as a row id (1 to SQLite's largest integer), or None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= SQLITE_MAX_INTEGER else None


def page_number(value):
    """A list page from the URL: 1 to MAX_PAGE, 1 when missing or not a number."""
    number = row_id(value) or 1
    return min(number, MAX_PAGE)
