"""The reporter's private page: its history, and the confirmation step before "Mark as fixed"
or "Reopen" (a real page, so it works without JavaScript)."""

from flask import render_template

from app.reporting import updates
from app.storage import reports as report_rows
from app.web.db import get_db

#: What a reporter's status change needs confirmed, and the view that does it.
CONFIRMED = "yes"


def render(report, token, confirm=None, note=""):
    """The manage page; with ``confirm`` ("fixed" or "reopen") it asks before acting."""
    return render_template(
        "reports/manage.html", report=report, token=token, confirm=confirm, note=note,
        history=report_rows.history_with_authors(get_db(), report["id"], updates.REPORTER))


def needs_confirmation(form):
    return form.get("confirmed") != CONFIRMED


def confirmation(report_id, token, action, note):
    """The page that asks "are you sure?", the note carried along."""
    report = updates.check_link(get_db(), report_id, token)
    return render(report, token, confirm=action, note=note or "")
