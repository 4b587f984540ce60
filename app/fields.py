"""What people type, checked the same way wherever it arrives: e-mail addresses and web
addresses.

An address becomes a ``To:`` header: text that carries a line break, a control character,
an RFC 2047 encoded-word (``=?...?=``), a comma, a quote or a bracket can add recipients or
headers, or make the e-mail library raise. So an address must be a plain ``local@domain``
that survives a round trip through :class:`email.headerregistry.Address` unchanged.

Addresses are ASCII only: the outbox does not ask the SMTP server for SMTPUTF8, so an
international domain is accepted in its ``xn--`` form and a non-ASCII local part is refused.
"""

import re
from email.errors import HeaderParseError
from email.headerregistry import Address, HeaderRegistry
from urllib.parse import urlsplit

from app.errors import ValidationError

EMAIL_MAX_LENGTH = 254
LOCAL_PART_MAX_LENGTH = 64
ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
TOP_LEVEL_LABEL = re.compile(r"[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*")
PARSE_ERRORS = (ValueError, IndexError, AttributeError, TypeError, HeaderParseError)
_HEADERS = HeaderRegistry()


def check_email(text):
    """A plain e-mail address that is safe as a ``To:`` header (stripped), or None when
    empty; else ValidationError. Every channel that stores an address goes through here."""
    email = (text or "").strip() or None
    if email and not is_safe_address(email):
        raise ValidationError("%(email)r is not a valid e-mail address.",
                              email=email[:EMAIL_MAX_LENGTH])
    return email


def is_safe_address(text):
    """Whether ``text`` is one plain address that can be a header as it is.

    >>> [is_safe_address(a) for a in ("ada@example.org", "a@=?utf-8?b?eA==?=.c", "crash@[b.c")]
    [True, False, False]
    """
    if len(text) > EMAIL_MAX_LENGTH or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    return (_plain_local_part(local) and _plain_domain(domain)
            and _round_trips(text, local, domain))


def _plain_local_part(local):
    """A dot-atom without an encoded-word: no quotes, spaces, commas, brackets or controls."""
    return (len(local) <= LOCAL_PART_MAX_LENGTH and "=?" not in local
            and all(ATOM.fullmatch(atom) for atom in local.split(".")))


def _plain_domain(domain):
    """A host name of two labels or more (no address literal), ending in a name."""
    labels = domain.split(".")
    return (len(labels) >= 2 and all(LABEL.fullmatch(label) for label in labels)
            and bool(TOP_LEVEL_LABEL.fullmatch(labels[-1])))


def _round_trips(text, local, domain):
    """The e-mail library reads back exactly one address, the same one, without a defect."""
    try:
        address = Address(addr_spec=text)
        header = _HEADERS("To", text)
    except PARSE_ERRORS:
        return False
    return ((address.username, address.domain, address.addr_spec) == (local, domain, text)
            and not header.defects and [a.addr_spec for a in header.addresses] == [text])


def is_http_url(text):
    """Whether ``text`` is an http or https address with a host (and a port, if any, that
    is a number above 0).

    >>> [is_http_url(u) for u in ("https://city.example/a", "ftp://x.org", "http://[::1")]
    [True, False, False]
    """
    try:
        parts = urlsplit(text)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # brackets that do not close, a port that is not a number
        return False


#: What XML 1.0 cannot carry even escaped: C0 controls but tab, newline and carriage return,
#: lone surrogates, and U+FFFE/U+FFFF. One such character made every feed ill-formed.
XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_unsafe_character(text):
    """The first character of ``text`` that XML 1.0 cannot carry, as ``U+000B``, or None.

    >>> xml_unsafe_character("a\\x0bb"), xml_unsafe_character("tab\\tnewline\\n")
    ('U+000B', None)
    """
    found = XML_UNSAFE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def check_xml_safe(text, field):
    """``text`` unchanged when every character can go into our XML and Atom feeds; else
    ValidationError naming the field and the character (nothing may be stored)."""
    bad = xml_unsafe_character(text) if text else None
    if bad:
        raise ValidationError(
            "%(field)s contains a control character (%(character)s) that cannot be stored: "
            "remove it and send again.", field=field, character=bad)
    return text


def xml_safe(text):
    """``text`` without the characters XML 1.0 cannot carry: output's second line of
    defence, for data stored before input was checked.

    >>> xml_safe("pothole\\x0c\\x1b here")
    'pothole here'
    """
    return XML_UNSAFE.sub("", text)
