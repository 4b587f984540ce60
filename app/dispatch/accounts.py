"""Creating staff accounts and changing their passwords, with the checks a city would want.

Passwords follow NIST SP 800-63B's advice: long enough, and not guessable from the lists
attackers try first. The list of common passwords is the one the ``zxcvbn`` package ships
(30,000 passwords most seen in public leaks); we use only the list, not its scorer, so every
refusal has a reason an operator can read.
"""

import re
from functools import cache

from werkzeug.security import generate_password_hash

from app.errors import NotFound, ValidationError
from app.fields import is_safe_address
from app.storage import catalog
from app.storage import users as user_rows

PASSWORD_MIN_LENGTH = 12
#: "aaaaaaaaaaab" and "000000000001" are long enough but made of almost one character.
MIN_DISTINCT_CHARACTERS = 5
#: A local part this short ("jo@...") would refuse too many passwords that merely contain it.
MIN_LOCAL_PART_CHECKED = 3
#: Spaces and punctuation around a password, as in "123456789012!".
SYMBOLS = re.compile(r"^[\W_]+|[\W_]+$")
#: Digits, spaces and punctuation around a word, as in "password1234" or "!!monkey2024".
DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
#: A word shorter than this left inside digits and symbols is not checked on its own.
MIN_WORD_CHECKED = 4
#: Runs people type as passwords: along the digits (wrapping 9 to 0), the alphabet or a
#: keyboard's rows, forwards or backwards.
SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")
#: A run with this many characters or fewer added at its end is still a sequence.
EXTRA_AFTER_RUN = 2


@cache
def common_passwords():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password, email):
    """Raise :class:`ValidationError` saying why ``password`` is too easy to guess.

    The password, what is left without the symbols around it, and the word left without
    the digits and symbols around it ("Password2024!" leaves "password") are each checked:
    not one word repeated, not a common password, not a sequence.
    """
    password = password or ""
    lowered, email = password.lower(), email.lower()
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationError(f"The password needs at least {PASSWORD_MIN_LENGTH} characters.")
    guessable = guessable_forms(lowered)
    if any(is_repeated(form) for form in guessable):
        raise ValidationError("The password must not be one character or word repeated "
                              "(possibly with digits or symbols added).")
    local_part = email.split("@")[0]
    if email in lowered or (len(local_part) >= MIN_LOCAL_PART_CHECKED and local_part in lowered):
        raise ValidationError("The password must not contain the e-mail address or its name.")
    if len(set(lowered)) < MIN_DISTINCT_CHARACTERS:
        raise ValidationError(f"The password needs at least {MIN_DISTINCT_CHARACTERS} "
                              "different characters.")
    if any(form in common_passwords() for form in guessable):
        raise ValidationError("The password is one of the most common passwords (possibly "
                              "with digits or symbols added): choose a less guessable one.")
    if any(is_sequence(form) for form in guessable):
        raise ValidationError("The password must not be a sequence such as 123456789012 or "
                              "abcdefghijkl (possibly with digits or symbols added).")


def guessable_forms(lowered):
    """The password, and the forms of it without symbols, or digits and symbols, around it
    that keep at least :data:`MIN_WORD_CHECKED` characters."""
    stripped = {SYMBOLS.sub("", lowered), DECORATION.sub("", lowered)}
    return {lowered} | {form for form in stripped if len(form) >= MIN_WORD_CHECKED}


def is_repeated(text):
    """Whether ``text`` is one shorter string written twice or more ("abcabc")."""
    return (text * 2).find(text, 1) < len(text)


def is_sequence(text):
    """Whether ``text``, but for at most :data:`EXTRA_AFTER_RUN` characters at its end, runs
    along one of :data:`SEQUENCES`, forwards or backwards ("0123456789011")."""
    heads = {text[:len(text) - extra] for extra in range(EXTRA_AFTER_RUN + 1)}
    for run in SEQUENCES:
        laps = run * (len(text) // len(run) + 2)
        if any(len(head) >= MIN_WORD_CHECKED and (head in laps or head in laps[::-1])
               for head in heads):
            return True
    return False


def create_staff_user(db, email, password, role, service_codes):
    """Create an admin or a dispatcher of the given services; return the new id."""
    email = (email or "").strip()
    if not is_safe_address(email):
        raise ValidationError("%(email)r is not a valid e-mail address.", email=email)
    if user_rows.user_by_email(db, email):
        raise ValidationError(f"There is already an account for {email}.")
    check_password(password, email)
    if role == "dispatcher" and not service_codes:
        raise ValidationError("A dispatcher needs at least one --service.")
    services = catalog.services_by_code(db)
    unknown = [code for code in service_codes if code not in services]
    if unknown:
        raise ValidationError(f"Unknown service: {', '.join(unknown)}.")
    return user_rows.create_user(db, email, generate_password_hash(password), role,
                                 [services[code]["id"] for code in service_codes])


def change_password(db, email, password):
    """Set a new password; every session of the account ends (it must log in again)."""
    row = user_rows.user_by_email(db, (email or "").strip())
    if not row:
        raise NotFound(f"There is no active staff account for {email}.")
    check_password(password, row["email"])
    user_rows.set_password_hash(db, row["id"], generate_password_hash(password))
