"""What an Open311 client sends beyond the resident form: kept, or refused, never dropped.

``phone`` is private like the e-mail (staff and the service see it; the privacy commands
erase it); ``device_id``, ``account_id``, ``address_string`` and ``address_id`` are kept as
sent and returned; every ``media_url`` is kept (one per photo slot) as a link, never fetched.
"""

import json
import re
from dataclasses import dataclass, field

from app.errors import ValidationError
from app.fields import check_xml_safe, is_http_url
from app.reporting.places import NAME_WEIGHT, NUMBER_WEIGHT, default_gazetteer

URL_MAX_LENGTH = 2000
TEXT_MAX_LENGTH = 200
ADDRESS_MAX_LENGTH = 500
#: A street named in full with its house number: the least a geocoded address must match.
EXACT_ADDRESS_SCORE = NAME_WEIGHT + NUMBER_WEIGHT - 1e-6
#: Digits with the usual separators and an optional leading +, 3 to 20 digits in all.
PHONE = re.compile(r"\+?[0-9 ().\-/]{3,40}")


@dataclass
class ClientFields:
    """The fields as sent (strings, or a list of strings for media_url)."""

    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    media_urls: list = field(default_factory=list)

    def columns(self, max_photos):
        """The report's columns for these fields, each checked; ValidationError otherwise."""
        return {
            "reporter_phone": check_phone(self.phone),
            "device_id": _short_text(self.device_id, "device_id", TEXT_MAX_LENGTH),
            "account_id": _short_text(self.account_id, "account_id", TEXT_MAX_LENGTH),
            "address_string": _short_text(self.address_string, "address_string",
                                          ADDRESS_MAX_LENGTH),
            "address_id": _short_text(self.address_id, "address_id", TEXT_MAX_LENGTH),
            "media_urls": json.dumps(check_media_urls(self.media_urls, max_photos)),
        }


def check_phone(text):
    """A phone number as typed (stripped), or None.

    >>> check_phone(" +1 (213) 555-0100 "), check_phone("")
    ('+1 (213) 555-0100', None)
    """
    phone = (text or "").strip() or None
    digits = sum(c.isdigit() for c in phone or "")
    if phone and not (PHONE.fullmatch(phone) and 3 <= digits <= 20):
        raise ValidationError("phone %(phone)r is not a telephone number: digits, spaces, "
                              "+ ( ) - . / only.", phone=phone[:40])
    return phone


def check_media_urls(urls, max_photos):
    """The non-empty http(s) links, at most one per photo slot."""
    kept = [url.strip() for url in urls if url and url.strip()]
    if len(kept) > max_photos:
        raise ValidationError("At most %(count)s media_url may be sent, one per photo.",
                              count=max_photos)
    for url in kept:
        if len(url) > URL_MAX_LENGTH or not is_http_url(url):
            raise ValidationError("media_url must be an http or https address; got %(url)r.",
                                  url=url[:100])
    return kept


def _short_text(text, name, limit):
    value = (text or "").strip() or None
    if value and len(value) > limit:
        raise ValidationError("%(name)s is longer than %(limit)s characters.", name=name,
                              limit=limit)
    return check_xml_safe(value, name)


def place_address(db, address_string, address_id):
    """(lon, lat) as strings for a request sent without lat/long: the gazetteer's address
    that matches ``address_string`` exactly (street and house number); ValidationError
    otherwise, saying what to send. Nothing is guessed."""
    text = (address_string or "").strip()
    if not text:
        raise ValidationError(
            "address_id %(id)r alone cannot be placed: send lat and long, or an "
            "address_string with the house number.", id=(address_id or "")[:100])
    found = default_gazetteer(db).search(check_xml_safe(text, "address_string"), limit=1)
    if not found or found[0].score < EXACT_ADDRESS_SCORE:
        raise ValidationError(
            "address_string %(address)r is not an address we can place exactly (street and "
            "house number): send lat and long.", address=text[:200])
    return str(found[0].lon), str(found[0].lat)
