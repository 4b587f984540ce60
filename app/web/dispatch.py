"""The dispatcher console: the queue of my services, report handling, exports and stats."""

import csv
import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.dispatch import stats, workflow
from app.errors import AppError, ValidationError
from app.ids import page_number, row_id
from app.reporting import questions
from app.reporting.public import defused
from app.statuses import OPEN_STATUSES, STATUSES, next_statuses
from app.storage import catalog
from app.storage import outbox as outbox_rows
from app.storage import questions as question_rows
from app.storage import queue as staff_rows
from app.storage import updates as update_rows
from app.web import assets, maps
from app.web.db import get_db, get_photo_store, streamed
from app.web.i18n import message_of
from app.web.links import link_args
from app.web.local_time import city_zone
from app.web.staff import staff_required

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")
PAGE_SIZE = 50


def actor():
    return current_user.email


def selection_from(args):
    """The queue's filters from the URL, limited to the user's services."""
    status = args.get("status", "open")
    statuses = OPEN_STATUSES if status == "open" else ((status,) if status in STATUSES else ())
    age = args.get("age", type=int)
    return staff_rows.QueueFilter(
        service_ids=current_user.visible_services,
        statuses=statuses,
        category=args.get("category") or None,
        area=args.get("area") or None,
        older_than_days=age if age and age > 0 else None,
        text=(args.get("q") or "").strip() or None,
        order=args.get("order", "newest"),
    )


@bp.get("")
@staff_required
def queue():
    db = get_db()
    selection = selection_from(request.args)
    page = page_number(request.args.get("page"))
    total = staff_rows.queue_count(db, selection)
    reports = staff_rows.queue(db, selection, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    points = [(r["lon"], r["lat"], f"#{r['id']} {r['category']}",
               url_for("dispatch.report", report_id=r["id"])) for r in reports]
    tiles = maps.Tiles.from_settings(current_app.config)
    return render_template(
        "dispatch/queue.html", reports=reports, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), args=link_args(request.args),
        counts=staff_rows.queue_status_counts(db, selection), statuses=STATUSES,
        categories=catalog.all_categories(db), services=catalog.all_services(db),
        areas=staff_rows.areas_of(db, current_user.visible_services),
        selection_map=maps.selection_map(points, tiles, assets.map_assets()),
    )


def handled_report(report_id):
    """The report, or 404 when it is missing or belongs to a service the user does not
    handle: the same answer, so the console tells no one which hidden reports exist."""
    report = staff_rows.report(get_db(), report_id)
    if report is None or not current_user.can_handle(report["service_id"]):
        abort(404)
    return report


@bp.get("/reports/<id:report_id>")
@staff_required
def report(report_id):
    return report_page(handled_report(report_id))


def report_page(found, status=200):
    """The staff page of a report; ``status`` is the answer's code (4xx after a refusal)."""
    db, report_id = get_db(), found["id"]
    return render_template(
        "dispatch/report.html", report=found, statuses=STATUSES,
        page_path=url_for("dispatch.report", report_id=report_id),
        next_statuses=next_statuses(found["status"]),
        photos=staff_rows.all_photos(db, report_id),
        events=staff_rows.all_events(db, report_id),
        duplicates=staff_rows.duplicates_of(db, report_id),
        updates=update_rows.all_updates(db, report_id),
        services=catalog.all_services(db),
        deliveries=outbox_rows.report_deliveries(db, report_id),
        answers=question_rows.report_answers(db, report_id, public_only=False),
    ), status


def act(report_id, action, done):
    """Run one workflow action for a handled report: back to its page with a message, or,
    when refused, its page again at once with the reason and the refusal's 4xx code."""
    found = handled_report(report_id)
    try:
        action()
    except AppError as error:
        flash(message_of(error), "error")
        return report_page(found, error.status)
    flash(done, "success")
    return redirect(url_for("dispatch.report", report_id=report_id))


@bp.post("/reports/<id:report_id>/status")
@staff_required
def change_status(report_id):
    form = request.form
    change = workflow.StatusChange(
        form.get("status", ""), public_note=form.get("public_note"),
        internal_note=form.get("internal_note"), reason=form.get("reason"),
        duplicate_of=form.get("duplicate_of") or None,
        reassign_to=form.get("reassign_to") or None)
    return act(report_id, lambda: workflow.change_status(
        get_db(), report_id, actor(), change, actor_services=current_user.visible_services,
    ), _("Status updated."))


@bp.post("/reports/<id:report_id>/reassign")
@staff_required
def reassign(report_id):
    form = request.form
    return act(report_id, lambda: workflow.reassign(
        get_db(), report_id, actor(), form.get("service", ""), form.get("reason")
    ), _("Report sent to the other service."))


@bp.post("/reports/<id:report_id>/visibility")
@staff_required
def visibility(report_id):
    hidden = request.form.get("hidden") == "1"
    return act(report_id, lambda: workflow.set_hidden(
        get_db(), report_id, actor(), hidden, request.form.get("note")
    ), _("Report hidden from the public.") if hidden else _("Report public again."))


@bp.post("/reports/<id:report_id>/photos/<int(max=99):position>/visibility")
@staff_required
def photo_visibility(report_id, position):
    hidden = request.form.get("hidden") == "1"
    return act(report_id, lambda: workflow.set_photo_hidden(
        get_db(), report_id, position, actor(), hidden
    ), _("Photo hidden from the public.") if hidden else _("Photo public again."))


@bp.post("/reports/<id:report_id>/redact")
@staff_required
def redact(report_id):
    return act(report_id, lambda: workflow.redact(
        get_db(), report_id, actor(), request.form.get("public_description")
    ), _("Public text replaced; the original is kept for staff."))


@bp.post("/bulk")
@staff_required
def bulk():
    db = get_db()
    ids = [row_id(v) for v in request.form.getlist("report")]
    if None in ids:
        raise ValidationError("Report numbers must be whole numbers.")
    for report_id in ids:
        handled_report(report_id)
    try:
        count = workflow.bulk_change(db, ids, actor(), request.form.get("status") or None,
                                     request.form.get("service") or None,
                                     request.form.get("note", ""))
    except AppError as error:
        flash(message_of(error), "error")
    else:
        flash(ngettext("%(num)d report updated.", "%(num)d reports updated.", count), "success")
    return redirect(url_for("dispatch.queue", **link_args(request.args)))


@bp.get("/export.csv")
@staff_required
def export_csv():
    selection = selection_from(request.args)

    def rows(db):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*staff_rows.EXPORT_COLUMNS, "answers"])
        exported = staff_rows.queue_export(db, selection)
        for row, answers in questions.with_answers(db, exported, public_only=False):
            writer.writerow([*(defused(row[c]) for c in staff_rows.EXPORT_COLUMNS),
                             defused(questions.answers_line(answers))])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return streamed(rows, "text/csv; charset=utf-8", "dispatch.csv")


@bp.get("/stats")
@staff_required
def statistics():
    summary = stats.summarise(staff_rows.first_transitions(get_db(), current_user.visible_services),
                              zone=city_zone())
    return render_template("dispatch/stats.html", summary=summary)


@bp.get("/reports/<id:report_id>/photos/<name>")
@staff_required
def photo(report_id, name):
    """Any photo of a handled report, hidden ones included; never cached by shared caches."""
    handled_report(report_id)
    db = get_db()
    rows = [*staff_rows.all_photos(db, report_id), *update_rows.all_updates(db, report_id)]
    names = {n for row in rows for n in (row["display_name"], row["thumb_name"]) if n}
    if name not in names:
        abort(404)
    response = send_file(get_photo_store().path(name), mimetype="image/jpeg")
    response.cache_control.private = True
    return response


@bp.post("/reports/<id:report_id>/updates/<id:update_id>/visibility")
@staff_required
def update_visibility(report_id, update_id):
    hidden = request.form.get("hidden") == "1"
    return act(report_id, lambda: workflow.set_update_hidden(
        get_db(), report_id, update_id, actor(), hidden
    ), _("Update hidden from the public.") if hidden else _("Update public again."))
