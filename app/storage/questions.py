"""Per-category questions and the answers given with reports."""

import json

from app.storage import now

QUESTION_COLUMNS = """q.id, c.code AS category, q.code, q.position, q.datatype, q.required,
    q.variable, q.public, q.description, q.datatype_description, q.choices, q.translations"""


def _question(row):
    row = dict(row)
    row["values"] = json.loads(row.pop("choices"))
    row["translations"] = json.loads(row["translations"])
    for flag in ("required", "variable", "public"):
        row[flag] = bool(row[flag])
    return row


def category_questions(db, category_code):
    """The questions of a category, in the order they are asked."""
    return [_question(row) for row in db.query(f"""
        SELECT {QUESTION_COLUMNS} FROM questions q JOIN categories c ON c.id = q.category_id
        WHERE c.code = ? ORDER BY q.position, q.id""", [category_code])]


def all_questions(db):
    """Every question, by category code then in the order asked."""
    return [_question(row) for row in db.query(f"""
        SELECT {QUESTION_COLUMNS} FROM questions q JOIN categories c ON c.id = q.category_id
        ORDER BY c.code, q.position, q.id""")]


def categories_with_questions(db):
    """Codes of the categories that ask at least one question."""
    return {row[0] for row in db.execute(
        "SELECT DISTINCT c.code FROM questions q JOIN categories c ON c.id = q.category_id")}


def save_question(db, category_id, question):
    """Insert or replace the question ``question["code"]`` of a category; a new one is asked
    last. Return True when it is new."""
    row = {
        "datatype": question["datatype"], "required": question["required"],
        "variable": question["variable"], "public": question["public"],
        "description": question["description"],
        "datatype_description": question["datatype_description"],
        "choices": json.dumps(question["values"], ensure_ascii=False),
        "translations": json.dumps(question["translations"], ensure_ascii=False),
        "updated_at": now(),
    }
    assignments = ", ".join(f"{name} = :{name}" for name in row)
    updated = db.execute(
        f"UPDATE questions SET {assignments} WHERE category_id = :category_id AND code = :code",
        {**row, "category_id": category_id, "code": question["code"]}).rowcount
    if updated:
        return False
    last = db.execute("SELECT coalesce(max(position), 0) FROM questions WHERE category_id = ?",
                      [category_id]).fetchone()[0]
    db["questions"].insert({**row, "category_id": category_id, "code": question["code"],
                            "position": last + 1})
    return True


def _question_id(db, category_code, code):
    row = db.execute("""SELECT q.id, q.category_id, q.position FROM questions q
        JOIN categories c ON c.id = q.category_id WHERE c.code = ? AND q.code = ?""",
                     [category_code, code]).fetchone()
    return row


def delete_question(db, category_code, code):
    """Delete a question (answers already given keep their copy); False when there is none."""
    found = _question_id(db, category_code, code)
    if found is None:
        return False
    db.execute("DELETE FROM questions WHERE id = ?", [found[0]])
    return True


def move_question(db, category_code, code, step):
    """Swap a question with its neighbour before (step -1) or after (step 1); False when
    there is no such question or no neighbour on that side."""
    found = _question_id(db, category_code, code)
    if found is None:
        return False
    question_id, category_id, position = found
    order = "DESC" if step < 0 else "ASC"
    compare = "<" if step < 0 else ">"
    neighbour = db.execute(
        f"SELECT id, position FROM questions WHERE category_id = ? AND position {compare} ? "
        f"ORDER BY position {order} LIMIT 1", [category_id, position]).fetchone()
    if neighbour is None:
        return False
    db.execute("UPDATE questions SET position = ? WHERE id = ?", [neighbour[1], question_id])
    db.execute("UPDATE questions SET position = ? WHERE id = ?", [position, neighbour[0]])
    return True


def insert_answers(db, report_id, answers):
    """Store a report's answers (dicts with code, question, datatype, value, shown, public)."""
    db["report_answers"].insert_all(
        {**answer, "report_id": report_id, "position": position, "value": json.dumps(
            answer["value"], ensure_ascii=False), "public": bool(answer["public"])}
        for position, answer in enumerate(answers))


def _answer(row):
    row = dict(row)
    row["value"] = json.loads(row["value"])
    row["public"] = bool(row["public"])
    return row


def report_answers(db, report_id, public_only):
    """A report's answers in the order asked; only the public ones if ``public_only``."""
    visible = "AND public = 1" if public_only else ""
    return [_answer(row) for row in db.query(
        "SELECT code, question, datatype, value, shown, public FROM report_answers "
        f"WHERE report_id = ? {visible} ORDER BY position", [report_id])]


def answers_of(db, report_ids, public_only=True):
    """{report id: [answers]} for a batch of reports, in one query."""
    report_ids = list(report_ids)
    found = {}
    if not report_ids:
        return found
    marks = ",".join("?" * len(report_ids))
    visible = "public = 1 AND" if public_only else ""
    for row in db.query(
            "SELECT report_id, code, question, datatype, value, shown, public "
            f"FROM report_answers WHERE {visible} report_id IN ({marks}) "
            "ORDER BY report_id, position", report_ids):
        found.setdefault(row["report_id"], []).append(_answer(row))
    return found


def shown_answers_of(db, report_ids, public_only=True):
    """{report id: [(code, answer as shown)]} for a batch of reports, in one query: what the
    exports write, read without decoding values. The rows come in index order (report,
    code) and are put in the order asked here, which is cheaper than an ORDER BY."""
    report_ids = list(report_ids)
    found = {}
    if not report_ids:
        return found
    marks = ",".join("?" * len(report_ids))
    visible = "AND public = 1" if public_only else ""
    for report_id, position, code, shown in db.execute(
            "SELECT report_id, position, code, shown FROM report_answers "
            f"WHERE report_id IN ({marks}) {visible}", report_ids):
        found.setdefault(report_id, []).append((position, code, shown))
    return {report_id: [(code, shown) for _position, code, shown in sorted(answers)]
            for report_id, answers in found.items()}


def public_answer_codes(db):
    """Every code a public answer was given to, sorted (the export's answer columns)."""
    return [row[0] for row in db.execute(
        "SELECT DISTINCT code FROM report_answers WHERE public = 1 ORDER BY code")]
