"""After sending: "My reports" lists the reports sent from this browser (kept only on the
phone, by static/js/my_reports.js) and lets a resident ask for their private links again by
e-mail, with the same answer whether or not the address is known."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.errors import ValidationError
from app.reporting import reporter_links
from app.web.db import get_db
from app.web.emails import EmailWriter
from app.web.extensions import my_links_limit
from app.web.i18n import current_language, message_of
from app.web.reports import bp, confirmation_budget


@bp.get("/reports/mine")
def my_reports():
    return render_template("reports/mine.html")


@bp.post("/reports/mine")
@my_links_limit
def send_my_links():
    """Queue the links e-mail; the answer never says whether the address sent a report."""
    try:
        reporter_links.send_links(get_db(), request.form.get("email"), confirmation_budget(),
                                  current_language(), EmailWriter(current_app))
    except ValidationError as error:
        return render_template("reports/mine.html", error=message_of(error),
                               email=request.form.get("email", "")), 400
    flash(_("If reports were sent with this address, an e-mail with their private links is "
            "on its way. Check your mailbox (and its spam folder) in a few minutes."), "success")
    return redirect(url_for("reports.my_reports"), code=303)
