"""What may go into an e-mail or HTTP header: one-line text; and the mailbox an accepted
address reaches (the address itself is checked by :func:`app.fields.is_safe_address`).

A name becomes part of a ``Subject:``: text that carries a line break or a control
character can add headers, so names are flattened to one line.
"""

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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
