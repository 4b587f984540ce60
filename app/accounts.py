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
from app.storage import catalog
from app.storage import staff as staff_rows

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN_LENGTH = 12
#: A local part this short ("jo@...") would refuse too many passwords that merely contain it.
MIN_LOCAL_PART_CHECKED = 3
#: Digits, spaces and punctuation around a word, as in "password1234" or "!!monkey2024".
DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password, email):
    """Raise :class:`ValidationError` saying why ``password`` is too easy to guess."""
    password = password or ""
    lowered, email = password.lower(), email.lower()
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationError(f"The password needs at least {PASSWORD_MIN_LENGTH} characters.")
    if (password * 2).find(password, 1) < len(password):
        raise ValidationError("The password must not be one character or word repeated.")
    local_part = email.split("@")[0]
    if email in lowered or (len(local_part) >= MIN_LOCAL_PART_CHECKED and local_part in lowered):
        raise ValidationError("The password must not contain the e-mail address or its name.")
    core = DECORATION.sub("", lowered)
    if lowered in common_passwords() or (len(core) >= 4 and core in common_passwords()):
        raise ValidationError("The password is one of the most common passwords (possibly "
                              "with digits or symbols added): choose a less guessable one.")


def create_staff_user(db, email, password, role, service_codes):
    """Create an admin or a dispatcher of the given services; return the new id."""
    email = (email or "").strip()
    if not EMAIL_PATTERN.match(email):
        raise ValidationError(f"{email!r} is not a valid e-mail address.")
    if staff_rows.user_by_email(db, email):
        raise ValidationError(f"There is already an account for {email}.")
    check_password(password, email)
    if role == "dispatcher" and not service_codes:
        raise ValidationError("A dispatcher needs at least one --service.")
    services = catalog.services_by_code(db)
    unknown = [code for code in service_codes if code not in services]
    if unknown:
        raise ValidationError(f"Unknown service: {', '.join(unknown)}.")
    return staff_rows.create_user(db, email, generate_password_hash(password), role,
                                  [services[code]["id"] for code in service_codes])


def change_password(db, email, password):
    """Set a new password; every session of the account ends (it must log in again)."""
    row = staff_rows.user_by_email(db, (email or "").strip())
    if not row:
        raise NotFound(f"There is no active staff account for {email}.")
    check_password(password, row["email"])
    staff_rows.set_password_hash(db, row["id"], generate_password_hash(password))
