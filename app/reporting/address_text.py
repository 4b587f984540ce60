"""Address text: the words a search compares, and an address split into its parts.

Residents type addresses in many ways ("977 n. Hill st", "North Hill Street 977",
"12 bd Saint-Michel"); the gazetteer stores and searches *tokens*: lower case, accents and
punctuation gone, abbreviations spelled out, so every spelling meets the same words.
"""

import re
import unicodedata
from dataclasses import dataclass

#: Abbreviation -> the word the index holds (English and French street vocabulary).
SPELLED_OUT = {
    "n": "north", "s": "south", "e": "east", "w": "west",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest",
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "avn": "avenue",
    "blvd": "boulevard", "bd": "boulevard", "bld": "boulevard", "boul": "boulevard",
    "dr": "drive", "rd": "road", "ln": "lane", "pl": "place", "ct": "court",
    "cir": "circle", "ter": "terrace", "terr": "terrace", "pkwy": "parkway", "hwy": "highway",
    "fwy": "freeway", "sq": "square", "trl": "trail", "wy": "way", "aly": "alley",
    "mt": "mount", "ft": "fort", "r": "rue", "ch": "chemin", "imp": "impasse",
    "fg": "faubourg", "qu": "quai", "pte": "porte", "rte": "route", "sent": "sentier",
}
HOUSE_NUMBER = re.compile(r"^\d{1,6}[a-z]?$")
WORD = re.compile(r"[^\W_]+")


def fold(text):
    """Lower case without accents, e.g. ``"Élysée"`` -> ``"elysee"``.

    >>> fold("Boulevard Saint-Germain-des-Prés")
    'boulevard saint-germain-des-pres'
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text):
    """The folded words of ``text``, punctuation dropped, abbreviations as typed.

    >>> words("977 N. Hill St., 90012")
    ['977', 'n', 'hill', 'st', '90012']
    """
    return WORD.findall(fold(text or ""))


def spelled_out(word):
    """The word the index holds for ``word``.

    >>> spelled_out("blvd"), spelled_out("bd"), spelled_out("hill")
    ('boulevard', 'boulevard', 'hill')
    """
    return SPELLED_OUT.get(word, word)


def has_words(text):
    """Whether ``text`` holds any letter or digit (cheaper than :func:`words`).

    >>> has_words(" - , "), has_words("12")
    (False, True)
    """
    return WORD.search(text or "") is not None


def tokens(text):
    """The index words of ``text``: folded, abbreviations spelled out.

    >>> tokens("12 Bd Saint-Michel")
    ['12', 'boulevard', 'saint', 'michel']
    """
    return [spelled_out(word) for word in words(text)]


def is_house_number(word):
    """Whether a folded word is a house number (digits, maybe one letter), not "3rd".

    >>> is_house_number("977"), is_house_number("12b"), is_house_number("3rd")
    (True, True, False)
    """
    return bool(HOUSE_NUMBER.match(word))


@dataclass(frozen=True)
class AddressParts:
    """An address as the gazetteer groups it: house number, street, locality, display text."""

    number: str
    street: str
    locality: str
    display: str


def split_address(text):
    """Split a one-line address ("977 N HILL ST, 90012") into its parts.

    The part before the first comma is the number and street, the rest the locality (postcode,
    city). A first word that looks like a house number is the number; an address without one
    (an intersection, a named place) is a street-level point. All-capitals text is shown in
    title case.

    >>> split_address("977 N HILL ST, 90012")
    AddressParts(number='977', street='N Hill St', locality='90012', display='977 N Hill St, 90012')
    >>> split_address("Van Nuys Blvd at Albers St").number
    ''
    """
    display = readable(" ".join(text.split()))
    street, _, locality = (part.strip(" ,") for part in display.partition(","))
    first, _, rest = street.partition(" ")
    if rest and is_house_number(fold(first)):
        return AddressParts(fold(first), rest.strip(), locality, display)
    return AddressParts("", street, locality, display)


def join_address(number, street, locality=""):
    """One display line from separate fields, as OpenAddresses publishes them.

    >>> join_address("977", "N HILL ST", "LOS ANGELES 90012")
    '977 N Hill St, Los Angeles 90012'
    """
    first = " ".join(part for part in (number, street) if part)
    return readable(", ".join(part for part in (first, locality) if part))


def readable(text):
    """All-capitals text in title case (ordinals stay "3rd"); mixed case is kept as given.

    >>> readable("16815 W VANOWEN ST"), readable("rue de Rivoli"), readable("W 3RD ST")
    ('16815 W Vanowen St', 'rue de Rivoli', 'W 3rd St')
    """
    if text != text.upper():
        return text
    return re.sub(r"\b[^\W\d_]+", lambda m: m.group(0).capitalize(), text.lower())
