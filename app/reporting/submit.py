"""A resident's report: validate, route, prepare photos, then store all in one transaction.

The web form calls :func:`submit_report`; so will every other way in (Open311), so every
channel gets the same rules and the same errors.
"""

import re
import secrets
from dataclasses import dataclass, field

from app.errors import FieldChecks, Name, NotCovered, Text, ValidationError
from app.fields import check_email, check_xml_safe, is_http_url
from app.reporting import questions, staging
from app.reporting.client_fields import ClientFields
from app.reporting.photos import PreparedPhoto, prepare_photo, storing_photos
from app.reporting.places import address_at
from app.storage import IntegrityError, catalog
from app.storage import questions as question_rows
from app.storage import reports as report_rows
from geo.coords import parse_lon_lat
from geo.errors import InvalidCoordinates, OutsideServiceArea

NAME_MAX_LENGTH = 100
URL_MAX_LENGTH = 2000
#: A form's submission key: random, URL-safe, long enough that nobody guesses another's.
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True)
class Limits:
    """The limits a submission must respect; they come from the settings."""

    max_photos: int = 3
    max_photo_pixels: int = 40_000_000
    description_max_length: int = 5000
    staged_photo_hours: int = 24

    @classmethod
    def from_settings(cls, config):
        """The limits that MAX_PHOTOS, MAX_PHOTO_PIXELS, DESCRIPTION_MAX_LENGTH and
        STAGED_PHOTO_HOURS set."""
        return cls(config["MAX_PHOTOS"], config["MAX_PHOTO_PIXELS"],
                   config["DESCRIPTION_MAX_LENGTH"], config["STAGED_PHOTO_HOURS"])


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
    #: What an Open311 client sends beyond the form (app.reporting.client_fields).
    client: ClientFields = field(default_factory=ClientFields)
    #: The form's random key: a second POST with it answers the first report (one per tap).
    submission_key: str | None = None
    #: Photos this browser uploaded ahead (app.reporting.staging), by id, and its token.
    staged_photo_ids: list = field(default_factory=list)
    photo_owner: str | None = None


def submit_report(db, router, store, submission, limits=Limits()):
    """Store a valid, routed report with its photos; return its id.

    Every field is checked before anything is written, and every problem is raised at once
    as :class:`FieldErrors` (each under its field), so a resident fixes them in one go. If
    writing fails half way, the transaction is rolled back and the photo files this call
    created are removed, so no report row and no orphan file is left.
    """
    checks = FieldChecks()
    key = checks.run("submission_key", _submission_key, submission.submission_key)
    if key and (first := report_rows.report_with_submission_key(db, key)):
        return first
    point = checks.run("lon", _coordinates, submission)
    category = checks.run("category", _category, db, submission.category)
    description = checks.run("description", _description, submission.description, limits)
    name = checks.run("name", _name, submission.reporter_name)
    email = checks.run("email", _email, submission.reporter_email)
    media_url = checks.run("media_url", _media_url, submission.media_url)
    photos = checks.run("photos", _photos, db, submission, limits)
    client = checks.run("client", submission.client.columns, limits.max_photos)
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
        "submission_key": key,
        **client,
    }
    try:
        return _store(db, store, report, photos, answers, submission)
    except IntegrityError:
        first = key and report_rows.report_with_submission_key(db, key)
        if first:  # the same form arrived twice at once: the other one was stored first
            return first
        raise


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
    category = catalog.offered_category(db, code)
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
    return check_xml_safe(text, "The description")


def _name(value):
    name = (value or "").strip() or None
    if name and len(name) > NAME_MAX_LENGTH:
        raise ValidationError("The name is longer than %(limit)s characters.",
                              limit=NAME_MAX_LENGTH)
    return check_xml_safe(name, "The name")


def _email(value):
    return check_email(value) if value else None


def _submission_key(value):
    value = (value or "").strip() or None
    if value and not SUBMISSION_KEY.match(value):
        raise ValidationError("This form's key is not valid: reload the page and try again.")
    return value


def _photos(db, submission, limits):
    """The staged photos named, then each uploaded one prepared by the pipeline; too many
    is refused before decoding any."""
    staged_ids, uploads = submission.staged_photo_ids, submission.photos
    if len(staged_ids) + len(uploads) > limits.max_photos:
        raise ValidationError("You can attach at most %(count)s photos.", count=limits.max_photos)
    staged = staging.photos_to_attach(db, submission.photo_owner, staged_ids,
                                      limits.staged_photo_hours)
    return staged + [
        prepare_photo(data, limits.max_photo_pixels, Text("Photo %(number)s", number=number))
        for number, data in enumerate(uploads, start=len(staged) + 1)
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


def _store(db, store, report, photos, answers=(), submission=None):
    with storing_photos(db, store) as write:
        report_id = report_rows.insert_report(db, report)
        for position, photo in enumerate(photos):
            if isinstance(photo, PreparedPhoto):  # a staged photo's files are already stored
                write(photo)
            report_rows.insert_photo(db, report_id, position, photo)
        if submission and submission.staged_photo_ids:
            staging.attached(db, submission.photo_owner, submission.staged_photo_ids)
        question_rows.insert_answers(db, report_id, answers)
        report_rows.add_event(db, report_id, "created", report["source"], to_status="new")
    return report_id

