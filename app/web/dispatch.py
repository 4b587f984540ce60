"""The dispatcher console: the queue of my services, report handling, exports and stats."""

import csv
import io
from datetime import UTC, datetime

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

from app import localtime
from app.dispatch import assignment, response_templates, stats, workflow
from app.errors import AppError, ValidationError
from app.ids import page_number, row_id
from app.reporting import questions
from app.reporting.public import defused
from app.statuses import OPEN_STATUSES, STATUSES, next_statuses
from app.storage import catalog
from app.storage import open311 as open311_rows
from app.storage import outbox as outbox_rows
from app.storage import questions as question_rows
from app.storage import queue as staff_rows
from app.storage import response_templates as template_rows
from app.storage import updates as update_rows
from app.web import assets, console_text, maps
from app.web.db import get_db, get_photo_store, streamed
from app.web.emails import EmailWriter
from app.web.i18n import LANGUAGES, current_language, message_of, name_of, translated
from app.web.links import link_args
from app.web.local_time import city_zone, local_datetime
from app.web.staff import staff_required

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")
console_text.register(bp)
PAGE_SIZE = 50
NEARBY_METRES = 200
#: The queue's former ``order`` values, still understood in saved links: (sort, descending).
LEGACY_ORDERS = {"newest": ("age", False), "oldest": ("age", True),
                 "supported": ("supports", False)}
QUICK_FILTERS = ("mine", "unassigned", "overdue", "today")


def actor():
    return current_user.email


def selection_from(args):
    """The queue's filters from the URL (a saved view is its link), limited to the user's
    services."""
    status = args.get("status", "open")
    statuses = OPEN_STATUSES if status == "open" else ((status,) if status in STATUSES else ())
    age = args.get("age", type=int)
    sort, descending = LEGACY_ORDERS.get(args.get("order"), ("age", False))
    if args.get("sort") in staff_rows.QUEUE_SORTS:
        sort, descending = args["sort"], args.get("dir") == "desc"
    priority = args.get("priority")
    return staff_rows.QueueFilter(
        service_ids=current_user.visible_services,
        statuses=statuses,
        category=args.get("category") or None,
        area=args.get("area") or None,
        older_than_days=age if age and age > 0 else None,
        text=(args.get("q") or "").strip() or None,
        priority=priority if priority in assignment.PRIORITIES else None,
        sort=sort, descending=descending, near=position_from(args.get("near")),
        **quick_filter(args.get("quick")),
    )


def position_from(text):
    """``near=lon,lat`` from "Nearest to me"; anything else is ignored (the usual order)."""
    try:
        lon, lat = (float(v) for v in (text or "").split(","))
    except ValueError:
        return None
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def quick_filter(name):
    """The fields of a quick filter: assigned to me, unassigned, overdue, due today (the
    city's day)."""
    now = datetime.now(UTC)
    if name == "mine":
        return {"assignee_id": current_user.id}
    if name == "unassigned":
        return {"unassigned": True}
    if name == "overdue":
        return {"due_before": now.isoformat(timespec="seconds")}
    if name == "today":
        today = localtime.today(city_zone(), now)
        return {"due_from": localtime.day_start(today, city_zone()),
                "due_before": localtime.next_day_start(today, city_zone())}
    return {}


@bp.get("")
@staff_required
def queue():
    return queue_page()


def queue_page(bulk_form=None, failures=(), status=200):
    """The queue; after a refused bulk change, with the selection and the bulk bar's fields
    as sent, and each failure (report id or None, message) listed."""
    db = get_db()
    selection = selection_from(request.args)
    page = page_number(request.args.get("page"))
    total = staff_rows.queue_count(db, selection)
    return render_template(
        "dispatch/queue.html", total=total, page=page,
        reports=staff_rows.queue(db, selection, (page - 1) * PAGE_SIZE, PAGE_SIZE),
        pages=max(1, -(-total // PAGE_SIZE)), args=link_args(request.args),
        counts=staff_rows.queue_status_counts(db, selection), statuses=STATUSES,
        categories=catalog.all_categories(db), services=catalog.all_services(db),
        areas=staff_rows.areas_of(db, current_user.visible_services),
        staff=assignable_staff(db), priorities=assignment.PRIORITIES,
        quick_filters=QUICK_FILTERS, selection=selection, bulk=bulk_form or {},
        selected={str(v) for v in (bulk_form.getlist("report") if bulk_form else ())},
        failures=failures, now=datetime.now(UTC),
        page_path=url_for("dispatch.queue", **link_args(request.args)),
    ), status


def assignable_staff(db):
    """Staff of the user's services (every service's for admins), to assign reports to."""
    services = current_user.visible_services
    if services is None:
        services = [s["id"] for s in catalog.all_services(db)]
    return staff_rows.staff_of(db, services)


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
    """The staff page of a report; ``status`` is the answer's code (4xx after a refusal,
    when the form comes back with everything typed)."""
    db, report_id = get_db(), found["id"]
    nearby = staff_rows.nearby_open(db, found, NEARBY_METRES)
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
        open311=open311_rows.staff_view(db, found),
        answers=question_rows.report_answers(db, report_id, public_only=False),
        staff=staff_rows.staff_of(db, [found["service_id"]]),
        priorities=assignment.PRIORITIES, nearby=nearby, nearby_map=nearby_map(found, nearby),
        responses=filled_templates(db, found),
        form=request.form if request.method == "POST" else {},
    ), status


def nearby_map(found, nearby):
    """The report and the other open reports within 200 m, the same category's marked."""
    points = [maps.NearbyPoint(r["lon"], r["lat"], f"#{r['id']} {category_name(r)}",
                               f"#nearby-{r['id']}", r["category_code"] == found["category_code"])
              for r in nearby]
    return maps.nearby_map(found["lon"], found["lat"], f"#{found['id']} {category_name(found)}",
                           points, NEARBY_METRES, maps.Tiles.from_settings(current_app.config),
                           assets.map_assets())


def category_name(row):
    return name_of("category", row["category_code"], row["category"])


def filled_templates(db, found):
    """The response templates that fit the report, in the reader's language, filled in."""
    values = {"number": found["id"], "category": category_name(found),
              "address": found["address"] or f"{found['lat']:.6f}, {found['lon']:.6f}",
              "due": local_datetime(found["fix_due_at"]) if found["fix_due_at"] else "–"}
    return [{"id": t["id"], "title": t["title"], "status": t["status"] or "",
             "text": response_templates.fill(t["text"], values)}
            for t in template_rows.templates_for(db, found["service_id"], found["category_id"],
                                                 current_language())]


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
    ), _("Status updated.") if change.to_status else _("Note added."))


@bp.post("/reports/<id:report_id>/assign")
@staff_required
def assign(report_id):
    form = request.form
    writer = EmailWriter(current_app) if form.get("notify") else None
    return act(report_id, lambda: assignment.assign(
        get_db(), report_id, actor(), form.get("assignee", ""), writer,
    ), _("Assignment saved."))


@bp.post("/reports/<id:report_id>/priority")
@staff_required
def priority(report_id):
    return act(report_id, lambda: assignment.set_priority(
        get_db(), report_id, actor(), request.form.get("priority", ""),
    ), _("Priority saved."))


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
    form = request.form
    ids = [row_id(v) for v in form.getlist("report")]
    if None in ids:
        raise ValidationError("Report numbers must be whole numbers.")
    for report_id in ids:
        handled_report(report_id)
    change = workflow.BulkChange(
        status=form.get("status") or None, note=form.get("note"),
        duplicate_of=form.get("duplicate_of") or None, service=form.get("service") or None,
        assignee=form.get("assignee") or None, priority=form.get("priority") or None)
    try:
        count = workflow.bulk_change(
            get_db(), ids, actor(), change, actor_services=current_user.visible_services,
            writer=EmailWriter(current_app) if form.get("notify") else None)
    except workflow.BulkFailed as error:
        return queue_page(form, [(i, translated(text)) for i, text in error.failures], 400)
    except AppError as error:
        return queue_page(form, [(None, message_of(error))], error.status)
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


def admin_required():
    """Response templates are managed by admins; a dispatcher is told so."""
    if not current_user.is_admin:
        abort(403)


@bp.get("/templates")
@staff_required
def templates():
    admin_required()
    db = get_db()
    form = {}
    if "edit" in request.args:
        form = template_form(db, row_id(request.args["edit"]))
    return template_admin_page(db, form=form)


def template_form(db, template_id):
    """The form's fields for changing template ``template_id`` (404 when there is none)."""
    found = template_rows.template(db, template_id) if template_id else None
    if found is None:
        abort(404)
    return {"template_id": str(found["id"]), "service": found["service_code"],
            "category": found["category_code"] or "", "status": found["status"] or "",
            "locale": found["locale"], "title": found["title"], "text": found["text"]}


def template_admin_page(db, status=200, form=None):
    """The admin page of response templates; after a refusal, the form as it was typed."""
    return render_template(
        "dispatch/templates.html", templates=template_rows.templates_of(db, None),
        services=catalog.all_services(db), categories=catalog.all_categories(db),
        statuses=STATUSES, languages=LANGUAGES, placeholders=response_templates.PLACEHOLDERS,
        form=request.form if request.method == "POST" else (form or {}),
        page_path=url_for("dispatch.templates"),
    ), status


@bp.post("/templates")
@staff_required
def save_template():
    admin_required()
    db, form = get_db(), request.form
    template_id = row_id(form.get("template_id")) if form.get("template_id") else None
    if form.get("template_id") and template_id is None:
        abort(404)
    try:
        with db.atomic():
            response_templates.save_template(
                db, LANGUAGES, form.get("service"), form.get("category"), form.get("status"),
                form.get("locale"), form.get("title"), form.get("text"), template_id)
    except AppError as error:
        flash(message_of(error), "error")
        return template_admin_page(db, error.status)
    flash(_("Response template saved."), "success")
    return redirect(url_for("dispatch.templates"))


@bp.post("/templates/<id:template_id>/delete")
@staff_required
def delete_template(template_id):
    admin_required()
    db = get_db()
    with db.atomic():
        response_templates.remove_template(db, template_id)
    flash(_("Response template deleted."), "success")
    return redirect(url_for("dispatch.templates"))
