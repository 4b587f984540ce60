"""Per-category questions (Open311 service definition attributes) and the answers to them.

A question belongs to a category and has the Open311 vocabulary (code, datatype, required,
description, datatype_description, values, variable) plus who may see its answers and its
translations. List values and translations are small JSON documents read and written whole.

An answer keeps the question's text, datatype and visibility as they were when asked, and no
reference to the question row: editing or deleting a question never rewrites what a resident
already answered.
"""

STATEMENTS = [
    """CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        category_id INTEGER NOT NULL REFERENCES categories(id),
        code TEXT NOT NULL,
        position INTEGER NOT NULL,
        datatype TEXT NOT NULL,
        required INTEGER NOT NULL DEFAULT 0,
        variable INTEGER NOT NULL DEFAULT 1,
        public INTEGER NOT NULL DEFAULT 1,
        description TEXT NOT NULL,
        datatype_description TEXT NOT NULL DEFAULT '',
        choices TEXT NOT NULL DEFAULT '[]',
        translations TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL,
        UNIQUE (category_id, code)
    )""",
    """CREATE TABLE report_answers (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id),
        position INTEGER NOT NULL,
        code TEXT NOT NULL,
        question TEXT NOT NULL,
        datatype TEXT NOT NULL,
        value TEXT NOT NULL,
        shown TEXT NOT NULL,
        public INTEGER NOT NULL,
        UNIQUE (report_id, code)
    )""",
    "CREATE INDEX report_answers_public_code ON report_answers(public, code)",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
