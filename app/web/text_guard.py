"""Refuse text that XML 1.0 cannot carry, at the door of every request.

A single control character stored in a description or a note once made every XML and Atom
feed ill-formed for every client. Checking every value of every request body (form fields,
file part names, JSON) covers every channel that stores text at once: the report form,
Open311, updates, staff notes, names. The check raises before any view runs, so nothing is
stored. Query strings are not stored, so they are left to each view.
"""

from flask import request

from app.fields import check_xml_safe


def refuse_unsafe_text():
    """before_request: a ValidationError naming the first body field with such a character."""
    for name, value in _parameters():
        check_xml_safe(name, "A parameter name")
        check_xml_safe(value, name)


def _parameters():
    for name, values in request.form.lists():
        for value in values:
            yield name, value
    if request.is_json:
        yield from _json_strings(request.get_json(silent=True), "JSON")
    for name, upload in request.files.items(multi=True):
        yield name, upload.filename or ""


def _json_strings(value, path):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, key
            yield from _json_strings(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, path)
