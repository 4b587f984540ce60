"""E-mail alerts (follow a report, reports near a point, reports in a service area) and
their Atom feeds."""

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.fields import xml_safe
from app.messaging import subscriptions
from app.reporting import public
from app.storage import areas as area_rows
from app.storage import reports as report_rows
from app.web.db import get_db
from app.web.emails import EmailWriter
from app.web.extensions import csrf, subscription_limit
from app.web.i18n import current_language
from app.web.reports import bp, confirmation_budget


@bp.post("/reports/<id:report_id>/subscribe")
@subscription_limit
def follow_report(report_id):
    return ask_for_alert(subscriptions.report_target(get_db(), report_id),
                         url_for("reports.show_report", report_id=report_id))


@bp.get("/alerts")
def alerts():
    """Choose an alert: around a point (from the map's centre) or in a service area."""
    return render_template("reports/alerts.html", args=request.args,
                           areas=area_rows.active_area_choices(get_db()),
                           max_radius=current_app.config["ALERT_MAX_RADIUS_M"])


@bp.post("/alerts")
@subscription_limit
def create_alert():
    form = request.form
    if form.get("kind") == "area":
        target = subscriptions.area_target(get_db(), form.get("area"))
    else:
        target = subscriptions.radius_target(form.get("lon"), form.get("lat"),
                                             form.get("radius"),
                                             current_app.config["ALERT_MAX_RADIUS_M"])
    return ask_for_alert(target, url_for("reports.alerts"))


def ask_for_alert(target, back):
    """Bad input is an error page (4xx) and stores nothing; success goes back with a note."""
    subscriptions.subscribe(get_db(), request.form.get("email"), target, current_language(),
                            confirmation_budget(), EmailWriter(current_app))
    flash(_("Almost done: we sent you an e-mail. Open the link in it to confirm; nothing "
            "else is sent to you until you do."), "success")
    return redirect(back, code=303)


@bp.route("/alerts/<token>/confirm", methods=["GET", "POST"])
def confirm_subscription(token):
    """The link in the confirmation e-mail shows a button: a mail scanner that opens links
    cannot confirm on the owner's behalf."""
    db = get_db()
    if request.method == "GET":
        return render_template("reports/subscription.html", action="confirm",
                               subscription=subscriptions.by_token(db, token))
    subscription = subscriptions.confirm(db, token)
    return render_template("reports/subscription.html", action="confirmed",
                           subscription=subscription)


@bp.get("/alerts/<token>/unsubscribe")
def unsubscribe_page(token):
    return render_template("reports/subscription.html", action="unsubscribe",
                           subscription=subscriptions.by_token(get_db(), token))


@bp.post("/alerts/<token>/unsubscribe")
@csrf.exempt
def unsubscribe(token):
    """One click (RFC 8058): mail programs POST here without a form token; the unguessable
    token in the address is the proof."""
    subscription = subscriptions.unsubscribe(get_db(), token)
    return render_template("reports/subscription.html", action="unsubscribed",
                           subscription=subscription)


@bp.get("/reports/<id:report_id>/history.atom")
def report_history_feed(report_id):
    db = get_db()
    report = public.public_report(db, report_id)
    events = report_rows.public_events(db, report_id)
    body = render_template("reports/history.atom.xml", report=report, events=events,
                           site_name=current_app.config["SITE_NAME"])
    return Response(xml_safe(body), mimetype="application/atom+xml")
