"""Per-category questions: the report form's question fragment (for its script), and the
admins' pages in the console to define, order and delete questions."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors import AppError, Forbidden, NotFound
from app.reporting import questions
from app.storage import catalog
from app.storage import questions as question_rows
from app.web.db import get_db
from app.web.i18n import LANGUAGES
from app.web.question_fields import asked
from app.web.staff import staff_required

bp = Blueprint("questions", __name__)
#: Languages a question is translated into besides the one it is written in (English).
OTHER_LANGUAGES = {code: name for code, name in LANGUAGES.items() if code != "en"}


@bp.get("/report/questions")
def fragment():
    """The questions of ``category`` as the report form shows them (HTML, for its script)."""
    return render_template("reports/_question_list.html",
                           questions=asked(request.args.get("category")), answers={},
                           answer_problems={})


def admin_only():
    if not current_user.is_admin:
        raise Forbidden("Only administrators may change the questions.")


@bp.get("/dispatch/questions")
@staff_required
def overview():
    admin_only()
    db = get_db()
    by_category = {}
    for question in question_rows.all_questions(db):
        by_category.setdefault(question["category"], []).append(question)
    return render_template("questions/overview.html", categories=catalog.offered_categories(db),
                           by_category=by_category)


@bp.get("/dispatch/questions/new")
@staff_required
def new():
    admin_only()
    return edit_page({"category": request.args.get("category", ""), "datatype": "string",
                      "variable": "yes", "public": "yes"}, is_new=True)


@bp.get("/dispatch/questions/<category>/<code>")
@staff_required
def edit(category, code):
    admin_only()
    found = [q for q in question_rows.category_questions(get_db(), category)
             if q["code"] == code]
    if not found:
        raise NotFound("There is no question %(code)r for this category.", code=code)
    return edit_page(form_values(found[0]), is_new=False)


def form_values(question):
    """A stored question as the edit form's fields."""
    values = {
        "category": question["category"], "code": question["code"],
        "datatype": question["datatype"], "description": question["description"],
        "datatype_description": question["datatype_description"],
        "values": questions.lines_from_values(question["values"]),
        **{flag: "yes" for flag in ("required", "variable", "public") if question[flag]},
    }
    for language in OTHER_LANGUAGES:
        texts = question["translations"].get(language, {})
        values[f"{language}_description"] = texts.get("description", "")
        values[f"{language}_datatype_description"] = texts.get("datatype_description", "")
        values[f"{language}_values"] = questions.lines_from_values(
            question["values"], texts.get("values", {}), texts.get("blocking", {}))
    return values


def edit_page(values, is_new, error=None):
    page = render_template("questions/edit.html", values=values, is_new=is_new, error=error,
                           categories=catalog.offered_categories(get_db()),
                           datatypes=questions.DATATYPES, languages=OTHER_LANGUAGES)
    return page, error.status if error else 200


def definition_from(form):
    """The JSON-shaped definition the console's form describes."""
    translations = {}
    for language in OTHER_LANGUAGES:
        lines = questions.values_from_lines(form.get(f"{language}_values"))
        texts = {
            "description": form.get(f"{language}_description", "").strip(),
            "datatype_description": form.get(f"{language}_datatype_description", "").strip(),
            "values": {v["key"]: v["name"] for v in lines},
            "blocking": {v["key"]: v["blocking"] for v in lines if v.get("blocking")},
        }
        texts = {name: text for name, text in texts.items() if text}
        if texts:
            translations[language] = texts
    return {
        "code": form.get("code", "").strip(), "datatype": form.get("datatype"),
        "description": form.get("description", ""),
        "datatype_description": form.get("datatype_description", ""),
        "required": form.get("required") == "yes", "variable": form.get("variable") == "yes",
        "public": form.get("public") == "yes",
        "values": questions.values_from_lines(form.get("values")),
        "translations": translations,
    }


@bp.post("/dispatch/questions")
@staff_required
def save():
    admin_only()
    form = request.form
    try:
        is_new = questions.save(get_db(), form.get("category", ""), definition_from(form))
    except AppError as error:
        return edit_page(form, form.get("is_new") == "1", error)
    flash(_("Question added.") if is_new else _("Question saved; answers already given keep "
                                                  "the words they were asked with."), "success")
    return redirect(url_for("questions.overview", _anchor=f"category-{form['category']}"),
                    code=303)


@bp.post("/dispatch/questions/<category>/<code>/move")
@staff_required
def move(category, code):
    admin_only()
    db = get_db()
    with db.atomic():
        question_rows.move_question(db, category, code,
                                    -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("questions.overview", _anchor=f"category-{category}"), code=303)


@bp.post("/dispatch/questions/<category>/<code>/delete")
@staff_required
def delete(category, code):
    admin_only()
    db = get_db()
    with db.atomic():
        deleted = question_rows.delete_question(db, category, code)
    if not deleted:
        raise NotFound("There is no question %(code)r for this category.", code=code)
    flash(_("Question deleted; answers already given are kept."), "success")
    return redirect(url_for("questions.overview", _anchor=f"category-{category}"), code=303)
