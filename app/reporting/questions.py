"""Per-category questions (Open311 service definition attributes): their definitions, the
answers a resident gives, and a blocking answer that stops a report.

Definitions come from admins (console, ``flask --app app questions``, JSON files) and are
checked here once, whatever the way in. Answers come from every channel as
``{code: [values]}`` and are checked by :func:`checked_answers`, which ``submit_report``
calls, so the web form and Open311 give the same errors. An answer keeps the question's text
as it was asked.
"""

import json
import math
import re
from datetime import datetime

from app.errors import Text, ValidationError
from app.storage import catalog
from app.storage import questions as question_rows

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
FIELD = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")
DESCRIPTION_MAX = 500
HELP_MAX = 1000
VALUE_KEY_MAX = 100
STRING_MAX = 500
TEXT_MAX = 5000
NUMBER_MAX = 40
MAX_VALUES = 100


class AnswerErrors(ValidationError):
    """Some answers are wrong: ``problems`` maps each field (``attribute[code]``) to its
    :class:`AnswerText`, shown next to the question; the message lists them all."""

    def __init__(self, problems):
        self.problems = problems
        parts = {f"p{number}": text for number, text in enumerate(problems.values())}
        listed = "; ".join(f"%({name})s" for name in parts)
        super().__init__(listed, **parts)


class BlockedReport(ValidationError):
    """An answer that the city cannot take through this form (e.g. someone is in danger)."""

    def __init__(self, field, message):
        self.field = field
        super().__init__("%(message)s", message=message)


#: A problem with an answer, named by its question (for a summary of every problem);
#: :func:`problem_alone` gives the problem without it, for its place under the question.
ABOUT_QUESTION = "%(question)s — %(problem)s"


def problem_alone(text):
    """The problem of an answer without its question (shown right under that question)."""
    return text.params["problem"] if text.template == ABOUT_QUESTION else text


class AnswerText(Text):
    """A problem with one answer: shown next to its question as is, but named by its field
    in English (``str``), which is what Open311 clients read in the error list."""

    def __init__(self, field, text):
        super().__init__(text.template, **text.params)
        self.field = field

    def __str__(self):
        return f"{self.field}: {super().__str__()}"


def field_name(code):
    return f"attribute[{code}]"


# Definitions ------------------------------------------------------------------------------


def definition(data):
    """A question definition from a dict (JSON, form or CLI), checked; a ValidationError
    names the first problem."""
    if not isinstance(data, dict):
        raise ValidationError("A question must be an object with code, datatype and "
                              "description.")
    code = _text(data.get("code"), "code", 64)
    if not CODE.match(code):
        raise ValidationError("The code %(code)r may hold only letters, digits, '.', '_' and "
                              "'-' (at most 64).", code=code)
    datatype = data.get("datatype")
    if datatype not in DATATYPES:
        raise ValidationError("The datatype must be one of %(datatypes)s; got %(datatype)r.",
                              datatypes=", ".join(DATATYPES), datatype=datatype)
    question = {
        "code": code,
        "datatype": datatype,
        "required": _flag(data.get("required", False), "required"),
        "variable": _flag(data.get("variable", True), "variable"),
        "public": _flag(data.get("public", True), "public"),
        "description": _text(data.get("description"), "description", DESCRIPTION_MAX),
        "datatype_description": _text(data.get("datatype_description") or "",
                                      "datatype_description", HELP_MAX, empty=True),
        "values": _values(data.get("values") or [], datatype),
    }
    if not question["variable"]:
        question["required"] = False
    question["translations"] = _translations(data.get("translations") or {}, question)
    return question


def _text(value, name, limit, empty=False):
    if not isinstance(value, str) or (not value.strip() and not empty):
        raise ValidationError("%(name)s must be a text.", name=name)
    value = value.strip()
    if len(value) > limit:
        raise ValidationError("%(name)s may be at most %(limit)s characters long.",
                              name=name, limit=limit)
    return value


def _flag(value, name):
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValidationError("%(name)s must be true or false.", name=name)


def _values(values, datatype):
    if datatype not in LISTS:
        if values:
            raise ValidationError("Only list questions have values.")
        return []
    if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
        raise ValidationError("A list question needs 1 to %(limit)s values.", limit=MAX_VALUES)
    checked = []
    for value in values:
        if not isinstance(value, dict):
            raise ValidationError("Each value needs a key and a name.")
        key = value.get("key")
        key = str(key).strip() if isinstance(key, str | int) else ""
        if not key or len(key) > VALUE_KEY_MAX or "," in key:
            raise ValidationError("A value's key must be a short text without commas; got "
                                  "%(key)r.", key=key)
        checked.append({"key": key, "name": _text(value.get("name"), "name", DESCRIPTION_MAX),
                        "blocking": _text(value.get("blocking") or "", "blocking", HELP_MAX,
                                          empty=True) or None})
    if len({v["key"] for v in checked}) != len(checked):
        raise ValidationError("Two values of a list question have the same key.")
    return checked


def _translations(translations, question):
    """{language: {description, datatype_description, values: {key: name},
    blocking: {key: message}}}, each part optional."""
    if not isinstance(translations, dict):
        raise ValidationError("translations must map a language code to its texts.")
    keys = {v["key"] for v in question["values"]}
    checked = {}
    for language, texts in translations.items():
        if not (isinstance(language, str) and re.fullmatch(r"[a-z]{2}", language)
                and isinstance(texts, dict)):
            raise ValidationError("translations must map a language code to its texts.")
        entry = {}
        for name, limit in (("description", DESCRIPTION_MAX),
                            ("datatype_description", HELP_MAX)):
            if texts.get(name):
                entry[name] = _text(texts[name], name, limit)
        for name in ("values", "blocking"):
            given = texts.get(name) or {}
            if not isinstance(given, dict) or not set(given) <= keys:
                raise ValidationError("Translated %(name)s must be keyed by the question's "
                                      "value keys.", name=name)
            if given:
                entry[name] = {k: _text(v, name, HELP_MAX) for k, v in given.items()}
        checked[language] = entry
    return checked


def values_from_lines(text):
    """List values written one a line as ``key | name | blocking message`` (the message is
    optional), as the console's form takes them.

    >>> values_from_lines("yes | Yes | Call 911 now.\\nno | No")
    [{'key': 'yes', 'name': 'Yes', 'blocking': 'Call 911 now.'}, {'key': 'no', 'name': 'No'}]
    """
    values = []
    for line in (text or "").splitlines():
        if line.strip():
            key, _bar, rest = line.partition("|")
            name, _bar, blocking = rest.partition("|")
            value = {"key": key.strip(), "name": name.strip() or key.strip()}
            if blocking.strip():
                value["blocking"] = blocking.strip()
            values.append(value)
    return values


def lines_from_values(values, names=None, blocking=None):
    """The console's lines for list values; with ``names``/``blocking`` (a translation),
    one line per value translated.

    >>> lines_from_values([{"key": "no", "name": "No", "blocking": None}])
    'no | No'
    """
    translated = names is not None or blocking is not None
    names, blocking = names or {}, blocking or {}
    lines = []
    for value in values:
        key = value["key"]
        if translated and key not in names and key not in blocking:
            continue
        name = names.get(key, "") if translated else value["name"]
        message = blocking.get(key, "") if translated else value.get("blocking") or ""
        lines.append(" | ".join([key, name, message] if message else [key, name]))
    return "\n".join(lines)


def save(db, category_code, data):
    """Check and store one question of a category; return True when it is new."""
    category = catalog.category_by_code(db, category_code)
    if category is None:
        raise ValidationError("There is no category with the code %(code)r.",
                              code=category_code)
    question = definition(data)
    with db.atomic():
        return question_rows.save_question(db, category["id"], question)


def import_definitions(db, document):
    """Store every question of a JSON export ({"categories": {code: [questions]}}) in one
    transaction; return (new, updated). Nothing is stored when one is wrong."""
    if not isinstance(document, dict) or not isinstance(document.get("categories"), dict):
        raise ValidationError('The file must hold {"categories": {"<code>": [questions]}}.')
    new = updated = 0
    with db.atomic():
        for category_code, questions in document["categories"].items():
            if not isinstance(questions, list):
                raise ValidationError("The questions of %(code)r must be a list.",
                                      code=category_code)
            for data in questions:
                if save(db, category_code, data):
                    new += 1
                else:
                    updated += 1
    return new, updated


EXPORTED = ("code", "datatype", "required", "variable", "public", "description",
            "datatype_description", "values", "translations")


def export_definitions(db):
    """Every question as the JSON document :func:`import_definitions` reads."""
    categories = {}
    for question in question_rows.all_questions(db):
        categories.setdefault(question["category"], []).append(
            {name: question[name] for name in EXPORTED})
    return {"categories": categories}


# In the resident's language ---------------------------------------------------------------


def in_language(question, locale):
    """The question's texts in ``locale`` where translated, else as written."""
    texts = question["translations"].get(locale or "", {})
    names, blocking = texts.get("values", {}), texts.get("blocking", {})
    return {
        **question,
        "text": texts.get("description") or question["description"],
        "help": texts.get("datatype_description") or question["datatype_description"],
        "choices": [{"key": v["key"], "name": names.get(v["key"], v["name"]),
                     "blocking": (blocking.get(v["key"]) or v["blocking"])
                     if v["blocking"] else None} for v in question["values"]],
    }


# Answers ----------------------------------------------------------------------------------


def answers_from_fields(fields):
    """``{code: [values]}`` from ``(name, [values])`` pairs: ``attribute[code]`` and
    ``attribute[code][]`` (Open311's way of sending several values) both count; other
    fields are not answers."""
    answers = {}
    for name, values in fields:
        found = FIELD.match(name)
        if found:
            answers.setdefault(found.group(1), []).extend(values)
    return answers


def checked_answers(db, category_code, given, locale=None):
    """The answers to store, checked against the category's questions.

    Raises :class:`BlockedReport` when an answer stops the report, else
    :class:`AnswerErrors` listing every wrong, missing or unknown answer.
    """
    questions = [in_language(q, locale) for q in question_rows.category_questions(
        db, category_code)]
    asked = {q["code"]: q for q in questions if q["variable"]}
    problems = {field_name(code): Text("There is no question %(code)r for this kind of "
                                       "problem.", code=code[:64])
                for code in given if code not in asked}
    answers = []
    for question in asked.values():
        values = [v.strip() for v in given.get(question["code"], ()) if isinstance(v, str)
                  and v.strip()]
        _stop_if_blocking(question, values)
        try:
            answer = _answer(question, values)
        except ValidationError as error:
            problems[field_name(question["code"])] = Text(
                ABOUT_QUESTION, question=question["text"], problem=error.text)
            continue
        if answer is not None:
            answers.append(answer)
    if problems:
        raise AnswerErrors({name: AnswerText(name[:80], text)
                            for name, text in problems.items()})
    return answers


def _stop_if_blocking(question, values):
    for choice in question["choices"]:
        if choice["blocking"] and choice["key"] in values:
            raise BlockedReport(field_name(question["code"]), choice["blocking"])


def _answer(question, values):
    if not values:
        if question["required"]:
            raise ValidationError("Answer this question: it is required.")
        return None
    datatype = question["datatype"]
    if datatype != "multivaluelist" and len(values) > 1:
        raise ValidationError("Give one answer to this question.")
    value, shown = PARSERS[datatype](question, values)
    return {"code": question["code"], "question": question["description"],
            "datatype": datatype, "value": value, "shown": shown,
            "public": question["public"]}


def _string(limit):
    def parse(_question, values):
        text = " ".join(values[0].split()) if limit == STRING_MAX else values[0]
        if len(text) > limit:
            raise ValidationError("The answer is longer than %(limit)s characters.",
                                  limit=limit)
        return text, text
    return parse


def _number(_question, values):
    text = values[0].replace(",", ".") if "." not in values[0] else values[0]
    try:
        number = float(text) if len(text) <= NUMBER_MAX else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValidationError("Enter a number, like 12 or 2.5.")
    shown = str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return number, shown


def _datetime(_question, values):
    try:
        moment = datetime.fromisoformat(values[0])
    except ValueError:
        raise ValidationError("Enter a date and time, like 2024-05-31T14:30.") from None
    text = moment.isoformat(timespec="minutes")
    return text, text


def _single(question, values):
    names = {c["key"]: c for c in question["choices"]}
    if values[0] not in names:
        raise ValidationError("%(value)r is not one of the answers to choose from.",
                              value=values[0][:100])
    return values[0], _english_name(question, values[0])


def _multiple(question, values):
    keys = [c["key"] for c in question["choices"]]
    unknown = [v for v in values if v not in keys]
    if unknown:
        raise ValidationError("%(value)r is not one of the answers to choose from.",
                              value=unknown[0][:100])
    chosen = [k for k in keys if k in values]
    return chosen, ", ".join(_english_name(question, k) for k in chosen)


def _english_name(question, key):
    return next(v["name"] for v in question["values"] if v["key"] == key)


PARSERS = {"string": _string(STRING_MAX), "text": _string(TEXT_MAX), "number": _number,
           "datetime": _datetime, "singlevaluelist": _single, "multivaluelist": _multiple}


# Reading answers with many reports -------------------------------------------------------

BATCH = 500


def with_answers(db, rows, public_only=True):
    """``(row, [(code, answer as shown)])`` for each report row of ``rows`` (an iterator, read
    lazily): the answers are read for a batch of reports at a time, not one query per
    report."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield from _answered(db, batch, public_only)
            batch = []
    yield from _answered(db, batch, public_only)


def _answered(db, batch, public_only):
    found = question_rows.shown_answers_of(db, [row["id"] for row in batch], public_only)
    for row in batch:
        yield row, found.get(row["id"], [])


def answer_column_names(db):
    """The open data's answer columns: one per code a public answer was given to."""
    return [f"answer_{code}" for code in question_rows.public_answer_codes(db)]


def answer_columns(answers):
    """{column: the answer as shown} for a report's public answers."""
    return {f"answer_{code}": shown for code, shown in answers}


def answers_line(answers):
    """All answers in one cell: ``code: answer`` separated by semicolons."""
    return "; ".join(f"{code}: {shown}" for code, shown in answers)


# Open311 ----------------------------------------------------------------------------------


def service_definition(db, category_code):
    """The Open311 service definition of a category: its attributes in order."""
    return {"service_code": category_code, "attributes": [
        open311_attribute(q, order) for order, q in
        enumerate(question_rows.category_questions(db, category_code), start=1)]}


def open311_attribute(question, order):
    attribute = {
        "variable": question["variable"], "code": question["code"],
        "datatype": question["datatype"], "required": question["required"],
        "datatype_description": question["datatype_description"] or None,
        "order": order, "description": question["description"],
    }
    if question["datatype"] in LISTS:
        attribute["values"] = [{"key": v["key"], "name": v["name"]} for v in question["values"]]
    return attribute


def open311_answers(answers):
    """Public answers as Open311 extended attributes: code, the question, the value."""
    return [{"code": a["code"], "description": a["question"], "value": a["value"],
             "shown": a["shown"]} for a in answers]


def to_json(document):
    return json.dumps(document, ensure_ascii=False, indent=2)
