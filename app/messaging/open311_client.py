"""Reports sent into a city's own work-order system over Open311, and its updates read back.

A service whose delivery is ``open311`` has the city's endpoint (the GeoReport v2 base URL),
jurisdiction, the *name* of the environment variable holding their API key (the key is
never stored or shown), our category codes mapped to theirs and, optionally, their status
words mapped to ours (:mod:`app.dispatch.outside_updates` has the default).

Sending goes through the outbox like e-mail and webhooks (leases, retries with back-off,
state on the staff page): the planner writes the request's parameters, the worker posts
them to ``requests.json`` and stores the ``service_request_id`` the city answers (or finds
it from the ``token``). An answer that will never change (a 4xx other than 408 and 429)
stops the retries and is shown. Reading back (``open311 fetch-updates``) polls each
service's ``servicerequestupdates.json``, or, where the city has none, its ``requests.json``
by id in batches that fit a URL, and records each new update once.
"""

import hashlib
import http.client
import json
import os
import re
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from app.dispatch import outside_updates
from app.errors import NotFound, ValidationError
from app.fields import check_xml_safe, is_http_url, xml_safe
from app.messaging.delivery import DeliveryFailed, Undeliverable, exchange, webhook_addresses
from app.statuses import STATUSES
from app.storage import catalog
from app.storage import open311 as open311_rows
from app.storage import questions as question_rows
from app.storage import queue as staff_rows

ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
CODE = re.compile(r"[^=\s]{1,100}")
#: Answers that will never be different if the same request is sent again.
RETRYABLE_4XX = {408, 425, 429}
#: Longest URL a batch of ids is allowed to make (many servers stop at 8 KB).
MAX_URL_LENGTH = 4000
UPDATE_PAGE_SIZE = 1000
MAX_UPDATE_PAGES = 50
USER_AGENT = "civic-reporter open311 client"


@dataclass(frozen=True)
class CityService:
    """One of our services as the city's Open311 server knows it."""

    id: int
    code: str
    name: str
    endpoint: str
    jurisdiction: str | None
    key_env: str | None
    service_codes: dict
    statuses: dict

    @classmethod
    def from_row(cls, row):
        return cls(row["id"], row["code"], row["name"], row["open311_endpoint"].rstrip("/"),
                   row["open311_jurisdiction"], row["open311_key_env"],
                   json.loads(row["open311_service_codes"] or "{}"),
                   json.loads(row["open311_statuses"] or "{}"))

    @property
    def source(self):
        """Where its updates come from, for the record of updates taken in."""
        return f"service:{self.code}"

    def url(self, path, **query):
        query = {**({"jurisdiction_id": self.jurisdiction} if self.jurisdiction else {}),
                 **query}
        return f"{self.endpoint}/{path}" + (f"?{urlencode(query)}" if query else "")


# Settings ('services set ... --open311-*').

def set_open311_delivery(db, code, endpoint=None, jurisdiction=None, key_env=None,
                         service_codes=(), statuses=(), allow_private=False):
    """Change a service's Open311 delivery; ``None`` keeps a value, ``""`` removes it.

    ``service_codes`` are ``ours=theirs`` texts and ``statuses`` ``theirs=ours`` texts, added
    to those already set (``ours=`` or ``theirs=`` alone removes one).
    """
    current = open311_rows.open311_service(db, code)
    if current is None:
        raise NotFound("There is no service %(code)r.", code=code)
    changes = {}
    if endpoint is not None:
        changes["open311_endpoint"] = _endpoint(endpoint, allow_private)
    if jurisdiction is not None:
        changes["open311_jurisdiction"] = check_xml_safe(jurisdiction.strip(),
                                                         "The jurisdiction") or None
    if key_env is not None:
        changes["open311_key_env"] = _key_env(key_env)
    if service_codes:
        known = {c["code"] for c in catalog.all_categories(db)}
        changes["open311_service_codes"] = json.dumps(_pairs(
            current["open311_service_codes"], service_codes, "--open311-service-code",
            lambda ours, _theirs: ours in known or _unknown_category(ours)))
    if statuses:
        changes["open311_statuses"] = json.dumps(_pairs(
            current["open311_statuses"], statuses, "--open311-status",
            lambda _theirs, ours: not ours or ours in (*STATUSES, "open") or _unknown_status(ours),
            key=outside_updates.status_word))
    if changes:
        with db.atomic():
            open311_rows.set_open311_delivery(db, code, changes)


def _endpoint(url, allow_private):
    url = url.strip().rstrip("/")
    if url:
        if not is_http_url(url):
            raise ValidationError("The Open311 endpoint must be an http or https address; "
                                  "got %(url)r.", url=url)
        webhook_addresses(url, allow_private)
    return url or None


def _key_env(name):
    name = name.strip()
    if name and not ENV_NAME.fullmatch(name):
        raise ValidationError("--open311-key-env takes the NAME of an environment variable "
                              "(capitals, digits, _), never the key itself; got %(name)r.",
                              name=name[:8] + "...")
    return name or None


def _pairs(stored, texts, option, valid, key=str):
    mapping = json.loads(stored or "{}")
    for text in texts:
        left, sep, right = text.partition("=")
        left, right = key(left.strip()), right.strip()
        if not sep or not CODE.fullmatch(left) or (right and not CODE.fullmatch(right)):
            raise ValidationError("%(option)s takes a=b (no spaces); got %(text)r.",
                                  option=option, text=text)
        valid(left, right)
        if right:
            mapping[left] = right
        else:
            mapping.pop(left, None)
    return mapping


def _unknown_category(code):
    raise ValidationError("There is no category %(code)r.", code=code)


def _unknown_status(status):
    raise ValidationError("%(status)r is not one of our statuses: %(statuses)s, or open.",
                          status=status, statuses=", ".join(STATUSES))


# Planning: the outbox message of a report for a city's server.

def request_messages(db, event, links):
    """The outbox message that sends the report of ``event`` to its service's city system."""
    row = open311_rows.open311_service(db, event["service_code"])
    if row is None or not row["open311_endpoint"]:
        return
    service = CityService.from_row(row)
    key = f"report:{event['report_id']}:service:{service.code}:open311"
    yield {
        "channel": "open311", "purpose": "report", "recipient": service.url("requests.json"),
        "report_id": event["report_id"], "dedupe_key": key,
        "body": json.dumps(request_parameters(db, event["report_id"], service, links)),
        "headers": {"service": service.code, "key_env": service.key_env or ""},
    }


def request_parameters(db, report_id, service, links):
    """The POST requests parameters as (name, value) pairs: the report, its place, the
    public answers as attributes and the public photos as media_url. The reporter's contact
    is not among them: it is read when the request is sent (:func:`contact_parameters`),
    so the outbox never holds it and a contact erased in the meantime is not sent."""
    report = open311_rows.report_for_city(db, report_id)
    pairs = [
        ("service_code", service.service_codes.get(report["category_code"],
                                                   report["category_code"])),
        ("lat", str(report["lat"])), ("long", str(report["lon"])),
        ("description", report["description"]),
        ("address_string", report["address_string"] or report["address"] or ""),
        ("address_id", report["address_id"] or ""),
        ("device_id", report["device_id"] or ""), ("account_id", report["account_id"] or ""),
    ]
    if service.jurisdiction:
        pairs.append(("jurisdiction_id", service.jurisdiction))
    pairs.append(("submission_key", submission_key(links.host, report_id, service.code)))
    pairs += [("media_url", url) for url in _photo_links(db, report, links)]
    for answer in question_rows.report_answers(db, report_id, public_only=True):
        values = answer["value"] if isinstance(answer["value"], list) else [answer["value"]]
        name = f"attribute[{answer['code']}]" + ("[]" if len(values) > 1 else "")
        pairs += [(name, _attribute_text(value)) for value in values]
    return [(name, value) for name, value in pairs if value != ""]


def submission_key(host, report_id, service_code):
    """The same key for every attempt to send this report to this service, and no other:
    a city that honours it (this application does) creates the request once even when our
    worker sends it again after losing the answer.

    >>> submission_key("fix.example", 7, "roads") == submission_key("fix.example", 7, "roads")
    True
    """
    digest = hashlib.sha256(f"{host}|{report_id}|{service_code}".encode()).hexdigest()
    return f"civic-{digest[:40]}"


def contact_parameters(db, report_id):
    """The reporter's e-mail, phone and name as the report holds them now."""
    report = open311_rows.report_for_city(db, report_id)
    first, _, last = (report["reporter_name"] or "").partition(" ")
    pairs = [("email", report["reporter_email"]), ("phone", report["reporter_phone"]),
             ("first_name", first), ("last_name", last)]
    return [(name, value) for name, value in pairs if value]


def _attribute_text(value):
    """An answer as the form would have sent it: 12, not 12.0.

    >>> _attribute_text(12.0), _attribute_text(2.5), _attribute_text("edge")
    ('12', '2.5', 'edge')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _photo_links(db, report, links):
    ours = [links.photo(p["display_name"]) for p in staff_rows.all_photos(db, report["id"])
            if not p["hidden"]]
    return ours or json.loads(report["media_urls"] or "[]")


# Sending (the outbox worker).

def send_request(db, message, webhook, environ=os.environ):
    """POST the planned request; store the city's service_request_id of the report."""
    headers = json.loads(message["headers"])
    pairs = [(name, value) for name, value in json.loads(message["body"]) if value is not None]
    pairs += contact_parameters(db, message["report_id"])
    key = _api_key(headers.get("key_env"), environ)
    if key:
        pairs.append(("api_key", key))
    status, body = exchange("POST", message["recipient"], urlencode(pairs).encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
        "User-Agent": USER_AGENT}, webhook)
    answer = _answer(status, body, "POST requests.json")
    remote_id = _remote_id(answer, message["recipient"], webhook)
    service = open311_rows.open311_service(db, headers["service"])
    with db.atomic():
        open311_rows.set_remote_id(db, message["report_id"], service["id"], remote_id)


def _api_key(name, environ):
    if not name:
        return None
    key = environ.get(name)
    if not key:
        raise DeliveryFailed(f"The environment variable {name} (the city's API key) is not "
                             "set for the outbox worker.")
    return key


def _answer(status, body, what):
    """The JSON the city answered, or the failure it means: retried unless it is a 4xx
    that the same request will always get."""
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        raise Undeliverable(f"The city's server refused {what} with HTTP {status}: "
                            f"{_error_text(body)} It is not tried again.")
    if not 200 <= status < 300:
        raise DeliveryFailed(f"The city's server answered {what} with HTTP {status}: "
                             f"{_error_text(body)}")
    try:
        return json.loads(body)
    except ValueError:
        raise DeliveryFailed(f"The city's server answered {what} with something other than "
                             "JSON.") from None


def _error_text(body):
    try:
        errors = json.loads(body)
        return " ".join(str(e.get("description", "")) for e in errors)[:300]
    except (ValueError, TypeError, AttributeError):
        return body[:300].decode("utf-8", "replace")


def _remote_id(answer, requests_url, webhook):
    first = answer[0] if isinstance(answer, list) and answer else {}
    if first.get("service_request_id"):
        return str(first["service_request_id"])
    if first.get("token"):
        tokens_url = requests_url.replace("/requests.json", f"/tokens/{first['token']}.json", 1)
        status, body = exchange("GET", tokens_url, None, {"Accept": "application/json",
                                                          "User-Agent": USER_AGENT}, webhook)
        found = _answer(status, body, "GET tokens")
        if found and found[0].get("service_request_id"):
            return str(found[0]["service_request_id"])
        raise DeliveryFailed("The city has not yet given a service_request_id for the token.")
    raise Undeliverable("The city's answer to POST requests.json had neither a "
                        "service_request_id nor a token.")


# Discovering a city's services.

def discover(endpoint, jurisdiction, webhook):
    """The services a city's Open311 server lists: [(code, name, group)]."""
    city = CityService(0, "", "", _endpoint(endpoint, webhook.allow_private) or "",
                       jurisdiction, None, {}, {})
    status, body = exchange("GET", city.url("services.json"), None,
                            {"Accept": "application/json", "User-Agent": USER_AGENT}, webhook)
    try:
        services = _answer(status, body, "GET services.json")
    except DeliveryFailed as failure:
        raise ValidationError(str(failure)) from None
    return [(s.get("service_code", ""), s.get("service_name", ""), s.get("group", ""))
            for s in services if isinstance(s, dict)]


# Reading updates back.

@dataclass
class FetchResult:
    service: str
    read: int = 0
    recorded: int = 0
    error: str | None = None
    #: Updates we could not take (an unknown status word...): (update_id, why).
    refused: list = field(default_factory=list)

    def __str__(self):
        if self.error:
            return f"{self.service}: {self.error}"
        refused = "".join(f" Update {update_id} not taken: {why}" for update_id, why in
                          self.refused)
        return (f"{self.service}: {self.read} update(s) read, {self.recorded} new recorded."
                + refused)


def fetch_all_updates(db, webhook, days, clock=lambda: datetime.now(UTC)):
    """Fetch the updates of every Open311 service; a failing city does not stop the others."""
    results = []
    for row in open311_rows.open311_services(db):
        service = CityService.from_row(row)
        result = FetchResult(service.code)
        try:
            for update in city_updates(db, service, webhook, clock() - timedelta(days=days),
                                       clock()):
                result.read += 1
                _take(db, service, update, result)
        except (DeliveryFailed, OSError, http.client.HTTPException) as error:
            result.error = str(error)
        results.append(result)
    return results


def _take(db, service, update, result):
    """Record one update; one that cannot be taken is reported and the others still are."""
    try:
        result.recorded += outside_updates.record(
            db, service.source, update, f"Open311: {service.name}", service.statuses)
    except (ValidationError, NotFound) as refusal:
        result.refused.append((update.update_id, str(refusal)))


def fetch_forever(db, webhook, days, poll_seconds, report):
    """Fetch rounds until SIGTERM or Ctrl-C; ``report`` gets the lines of each round that
    read something or failed."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.is_set():
            for result in fetch_all_updates(db, webhook, days):
                if result.read or result.error:
                    report(str(result))
            stop.wait(poll_seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def city_updates(db, service, webhook, since, until):
    """The city's updates on the reports we sent it, as OutsideUpdate values."""
    ours = open311_rows.sent_requests(db, service.id)
    try:
        updates = list(_servicerequestupdates(service, webhook, since, until))
    except _NoUpdatesEndpoint:
        yield from _request_states(db, service, webhook, ours)
        return
    for update in updates:
        report_id = ours.get(str(update.get("service_request_id", "")))
        if report_id is not None and update.get("update_id"):
            yield outside_updates.OutsideUpdate(
                str(update["update_id"]), report_id, update.get("status"),
                _their_note(update.get("description")), update.get("updated_datetime"),
                update.get("media_url") or None)


class _NoUpdatesEndpoint(Exception):
    """The city's server has no servicerequestupdates (404 or 405)."""


def _servicerequestupdates(service, webhook, since, until):
    seen = set()
    for page in range(1, MAX_UPDATE_PAGES + 1):
        url = service.url("servicerequestupdates.json", start_date=_w3c(since),
                          end_date=_w3c(until), page=page, page_size=UPDATE_PAGE_SIZE)
        status, body = exchange("GET", url, None, {"Accept": "application/json",
                                                   "User-Agent": USER_AGENT}, webhook)
        if status in (404, 405) and page == 1:
            raise _NoUpdatesEndpoint()
        batch = _answer(status, body, "GET servicerequestupdates.json")
        fresh = [u for u in batch if isinstance(u, dict) and u.get("update_id") not in seen]
        yield from fresh
        seen.update(u.get("update_id") for u in fresh)
        if len(batch) < UPDATE_PAGE_SIZE or not fresh:  # a server that ignores page repeats
            return


def _request_states(db, service, webhook, ours):
    """Without servicerequestupdates: each open request's state, asked by id in batches."""
    for batch in id_batches(open311_rows.open_sent_requests(db, service.id),
                            len(service.url("requests.json", service_request_id=""))):
        status, body = exchange("GET", service.url("requests.json",
                                                   service_request_id=",".join(batch)),
                                None, {"Accept": "application/json", "User-Agent": USER_AGENT},
                                webhook)
        for request in _answer(status, body, "GET requests.json"):
            report_id = ours.get(str(request.get("service_request_id", "")))
            if report_id is None:
                continue
            detailed = (request.get("extended_attributes") or {}).get("detailed_status")
            their_status = detailed or request.get("status")
            moment = request.get("updated_datetime") or ""
            yield outside_updates.OutsideUpdate(
                f"{request['service_request_id']}:{their_status}:{moment}", report_id,
                their_status, _their_note(request.get("status_notes")), moment or None)


def _their_note(text):
    """A city's note as we can keep it: what XML cannot carry dropped, the length bounded.
    (A client sending to us is refused instead; a city we poll cannot be asked again.)"""
    return xml_safe(str(text))[:outside_updates.NOTE_MAX_LENGTH] if text else None


def id_batches(ids, base_length, limit=MAX_URL_LENGTH):
    """Ids in comma-separated batches whose URL (``base_length`` plus the encoded ids, a
    comma costing 3 characters) stays within ``limit``.

    >>> [len(b) for b in id_batches([str(n) for n in range(1000, 1010)], 20, 40)]
    [3, 3, 3, 1]
    """
    batch, length = [], base_length
    for remote_id in ids:
        cost = len(remote_id) + (3 if batch else 0)
        if batch and length + cost > limit:
            yield batch
            batch, length = [], base_length
            cost = len(remote_id)
        batch.append(remote_id)
        length += cost
    if batch:
        yield batch


def _w3c(moment):
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
