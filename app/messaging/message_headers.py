"""What may go into an e-mail or HTTP header: one strict address check and one-line text;
and the mailbox an accepted address reaches.

An address becomes a ``To:`` header and a name becomes part of a ``Subject:``: text that
carries a line break, a control character, an RFC 2047 encoded-word (``=?...?=``), a comma,
a quote or a bracket can add recipients or headers, or make the e-mail library raise. So
an address must be a plain ``local@domain`` that survives a round trip through
:class:`email.headerregistry.Address` unchanged, and names are flattened to one line.

Addresses are ASCII only: the outbox does not ask the SMTP server for SMTPUTF8, so an
international domain is accepted in its ``xn--`` form and a non-ASCII local part is refused.
"""

import re
from email.errors import HeaderParseError
from email.headerregistry import Address, HeaderRegistry

EMAIL_MAX_LENGTH = 254
LOCAL_PART_MAX_LENGTH = 64
ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
TOP_LEVEL_LABEL = re.compile(r"[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
PARSE_ERRORS = (ValueError, IndexError, AttributeError, TypeError, HeaderParseError)
_HEADERS = HeaderRegistry()


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


def one_line(text):
    """``text`` on one line: controls and line breaks become spaces, runs of spaces one.

    >>> one_line("Pothole\\r\\nBcc: victim@example.org\\x00 ")
    'Pothole Bcc: victim@example.org'
    """
    return " ".join(CONTROL.sub(" ", str(text)).split())


GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def mailbox(email):
    """The mailbox an address reaches, to count or limit per person however the address is
    spelled: case folded and without a ``+tag``; for Gmail also without dots, googlemail.com
    read as gmail.com (Gmail ignores both). Other providers may treat dots as significant,
    so they keep them.

    >>> mailbox("First.Last+city@GoogleMail.com"), mailbox("Ada+x@Example.org")
    ('firstlast@gmail.com', 'ada@example.org')
    """
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), GMAIL_DOMAINS[0]
    return f"{local}@{domain}"
