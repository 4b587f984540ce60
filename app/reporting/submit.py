"""A resident's report: validate, route, prepare photos, then store all in one transaction.

The web form calls :func:`submit_report`; so will every other way in (Open311), so every
channel gets the same rules and the same errors.
"""

import secrets
from dataclasses import dataclass, field

from app.errors import FieldChecks, Name, NotCovered, Text, ValidationError
from app.fields import check_email, is_http_url
from app.reporting import questions
from app.reporting.photos import prepare_photo, storing_photos
from app.reporting.places import address_at
from app.storage import catalog
from app.storage import questions as question_rows
from app.storage import reports as report_rows
from geo.coords import parse_lon_lat
from geo.errors import InvalidCoordinates, OutsideServiceArea

NAME_MAX_LENGTH = 100
URL_MAX_LENGTH = 2000


@dataclass(frozen=True)
class Limits:
    """The limits a submission must respect; they come from the settings."""

    max_photos: int = 3
    max_photo_pixels: int = 40_000_000
    description_max_length: int = 5000

    @classmethod
    def from_settings(cls, config):
        """The limits that MAX_PHOTOS, MAX_PHOTO_PIXELS and DESCRIPTION_MAX_LENGTH set."""
        return cls(config["MAX_PHOTOS"], config["MAX_PHOTO_PIXELS"],
                   config["DESCRIPTION_MAX_LENGTH"])


@dataclass
class Submission:
    """What a resident sent, as strings and bytes, before any check."""

    lon: str | None
    lat: str | None
    category: str | None
    description: str | None
    reporter_name: str | None = None
    reporter_email: str | None = None
    show_name: bool = False
    photos: list = field(default_factory=list)
    media_url: str | None = None
    source: str = "web"
    locale: str | None = None
    #: What an Open311 client gets back to look the request up: never the manage token.
    request_token: str | None = None
    #: Answers to the category's questions: {code: [values]} (several for a multi-value list).
    answers: dict = field(default_factory=dict)


def submit_report(db, router, store, submission, limits=Limits()):
    """Store a valid, routed report with its photos; return its id.

    Every field is checked before anything is written, and every problem is raised at once
    as :class:`FieldErrors` (each under its field), so a resident fixes them in one go. If
    writing fails half way, the transaction is rolled back and the photo files this call
    created are removed, so no report row and no orphan file is left.
    """
    checks = FieldChecks()
    point = checks.run("lon", _coordinates, submission)
    category = checks.run("category", _category, db, submission.category)
    description = checks.run("description", _description, submission.description, limits)
    name = checks.run("name", _name, submission.reporter_name)
    email = checks.run("email", _email, submission.reporter_email)
    media_url = checks.run("media_url", _media_url, submission.media_url)
    photos = checks.run("photos", _photos, submission.photos, limits)
    answers = _answers(checks, db, category, submission) if category else []
    match = _route(checks, router, point, category) if point and category else None
    checks.raise_any()
    lon, lat = point
    report = {
        "category_id": category["id"],
        "service_id": catalog.services_by_code(db)[match.service]["id"],
        "area_id": match.area_id,
        "boundary_version_id": match.version,
        "lon": lon,
        "lat": lat,
        "address": address_at(db, lon, lat),
        "description": description,
        "reporter_name": name,
        "reporter_email": email,
        "show_name": bool(submission.show_name and name),
        "source": submission.source,
        "media_url": media_url,
        "token": secrets.token_urlsafe(18),
        "request_token": submission.request_token,
        "locale": submission.locale,
    }
    return _store(db, store, report, photos, answers)


def _coordinates(submission):
    if not (submission.lon or "").strip() and not (submission.lat or "").strip():
        raise ValidationError("Place the pin on the map to show where the problem is.")
    try:
        return parse_lon_lat(submission.lon, submission.lat)
    except InvalidCoordinates as error:
        raise ValidationError.from_text(error) from None


def _category(db, code):
    if not code:
        raise ValidationError("Choose what kind of problem this is.")
    category = catalog.category_by_code(db, code)
    if category is None:
        raise ValidationError("%(code)r is not a category we know: choose one from the list.",
                              code=code)
    return category


def _description(text, limits):
    text = (text or "").strip()
    if not text:
        raise ValidationError("Describe the problem in a few words.")
    if len(text) > limits.description_max_length:
        raise ValidationError(
            "The description is %(length)s characters long; the limit is %(limit)s.",
            length=len(text), limit=limits.description_max_length)
    return text


def _name(value):
    name = (value or "").strip() or None
    if name and len(name) > NAME_MAX_LENGTH:
        raise ValidationError("The name is longer than %(limit)s characters.",
                              limit=NAME_MAX_LENGTH)
    return name


def _email(value):
    return check_email(value) if value else None


def _photos(uploads, limits):
    """Each photo prepared by the pipeline; too many is refused before decoding any."""
    if len(uploads) > limits.max_photos:
        raise ValidationError("You can attach at most %(count)s photos.", count=limits.max_photos)
    return [
        prepare_photo(data, limits.max_photo_pixels, Text("Photo %(number)s", number=number))
        for number, data in enumerate(uploads, start=1)
    ]


def _media_url(url):
    """A photo link sent by another system: kept as a link, never fetched."""
    url = (url or "").strip() or None
    if url and (len(url) > URL_MAX_LENGTH or not is_http_url(url)):
        raise ValidationError("media_url must be an http or https address; got %(url)r.",
                              url=url[:100])
    return url


def _route(checks, router, point, category):
    """The service area that takes the point, or a problem recorded on the field to change:
    the category when another one is handled here, the pin when nothing is."""
    try:
        return router.route(*point, category["code"])
    except OutsideServiceArea:
        if router.categories_at(*point):
            checks.add("category", Text(
                "%(category)s is not handled at this location: choose another category.",
                category=Name("category", category["code"], category["name"])), NotCovered.status)
        else:
            checks.add("lon", Text("This location is outside the area we cover."),
                       NotCovered.status)
        return None


def _answers(checks, db, category, submission):
    """The checked answers; each wrong one recorded under its field (``attribute[code]``).
    A blocking answer is raised at once: the report cannot go through this channel."""
    try:
        return questions.checked_answers(db, category["code"], submission.answers,
                                         submission.locale)
    except questions.AnswerErrors as error:
        for name, text in error.problems.items():
            checks.add(name, text)
        return []


def _store(db, store, report, photos, answers=()):
    with storing_photos(db, store) as write:
        report_id = report_rows.insert_report(db, report)
        for position, photo in enumerate(photos):
            write(photo)
            report_rows.insert_photo(db, report_id, position, photo)
        question_rows.insert_answers(db, report_id, answers)
        report_rows.add_event(db, report_id, "created", report["source"], to_status="new")
    return report_id

