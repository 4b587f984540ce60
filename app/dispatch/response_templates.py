"""Response templates: a service's canned public notes, optionally for one category and one
status, each in one interface language, with placeholders filled from the report.

Placeholders are ``{number}``, ``{category}``, ``{address}`` and ``{due}``; any other
``{word}`` is refused when the template is saved, so a typo never reaches a resident.
"""

import re

from app.errors import NotFound, ValidationError
from app.statuses import STATUSES
from app.storage import catalog
from app.storage import response_templates as template_rows

PLACEHOLDERS = ("number", "category", "address", "due")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TITLE_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 2000


def save_template(db, languages, service_code, category_code, status, locale, title, text,
                  template_id=None):
    """Check and store a template (a new one, or ``template_id`` changed); return its id.
    ``languages`` are the interface's language codes."""
    service = catalog.services_by_code(db).get(service_code or "")
    if service is None:
        raise ValidationError("There is no service %(code)r.", code=service_code or "")
    category_id = _category_id(db, category_code)
    status = status or None
    if status is not None and status not in STATUSES:
        raise ValidationError("%(target)r is not a status.", target=status)
    if locale not in languages:
        raise ValidationError("There is no %(code)r version of this site.", code=locale or "")
    title, text = _checked_words(title, text)
    if template_id is None:
        return template_rows.add_template(db, service["id"], category_id, status, locale,
                                          title, text)
    if not template_rows.update_template(db, template_id, service["id"], category_id, status,
                                         locale, title, text):
        raise NotFound("There is no response template number %(id)s.", id=template_id)
    return template_id


def _category_id(db, code):
    if not code:
        return None
    category = catalog.category_by_code(db, code)
    if category is None:
        raise ValidationError("There is no category %(code)r.", code=code)
    return category["id"]


def _checked_words(title, text):
    title, text = (title or "").strip(), (text or "").strip()
    if not title or not text:
        raise ValidationError("A response template needs a title and a text.")
    if len(title) > TITLE_MAX_LENGTH or len(text) > TEXT_MAX_LENGTH:
        raise ValidationError("A template's title is limited to %(title)s characters and "
                              "its text to %(text)s.", title=TITLE_MAX_LENGTH,
                              text=TEXT_MAX_LENGTH)
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
    if unknown:
        raise ValidationError("Unknown placeholder {%(name)s}: use {number}, {category}, "
                              "{address} or {due}.", name=unknown[0])
    return title, text


def remove_template(db, template_id, service_ids=None):
    """Delete a template of one of ``service_ids`` (any service when None)."""
    existing = template_rows.template(db, template_id)
    if existing is None or (service_ids is not None
                            and existing["service_id"] not in service_ids):
        raise NotFound("There is no response template number %(id)s.", id=template_id)
    template_rows.remove_template(db, template_id)


def fill(text, values):
    """The template's text with its placeholders replaced by ``values`` (words already in
    the reader's language).

    >>> fill("Report {number} at {address} is booked.", {"number": 7, "address": "1 Main St"})
    'Report 7 at 1 Main St is booked.'
    """
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)
