"""The category's questions in the report form: what to ask, what was answered, and the
problem to show next to each question. Shared by the report form, its script's fragment
and Open311 (which reads answers the same way)."""

from app.reporting import questions
from app.storage import catalog
from app.storage import questions as question_rows
from app.web.db import get_db
from app.web.i18n import current_language, message_of, translated


def asked(category_code):
    """The category's questions in the reader's language ([] without a category, or for
    a retired one: it is no longer offered)."""
    if not category_code or catalog.offered_category(get_db(), category_code) is None:
        return []
    locale = current_language()
    return [questions.in_language(q, locale)
            for q in question_rows.category_questions(get_db(), category_code)]


def answers_in(form):
    """{code: [values]} from a form's ``attribute[code]`` and ``attribute[code][]`` fields."""
    return questions.answers_from_fields(form.lists()) if hasattr(form, "lists") else {}


def problems_of(error):
    """Each answer's problem in the reader's language, by field name."""
    if isinstance(error, questions.BlockedReport):
        return {error.field: message_of(error)}
    return {name: translated(questions.problem_alone(text))
            for name, text in getattr(error, "fields", {}).items()
            if name.startswith("attribute[")}


def form_context(values, error=None):
    """What the form's question partial needs: the questions of the chosen category, the
    answers already given and the problems found in them."""
    return {"questions": asked(values.get("category")), "answers": answers_in(values),
            "answer_problems": problems_of(error) if error else {}}
