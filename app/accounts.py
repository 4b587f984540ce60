"""Creating staff accounts, with the checks a city would want."""

import re

from werkzeug.security import generate_password_hash

from app.errors import ValidationError
from app.storage import catalog
from app.storage import staff as staff_rows

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN_LENGTH = 12


def create_staff_user(db, email, password, role, service_codes):
    """Create an admin or a dispatcher of the given services; return the new id."""
    email = (email or "").strip()
    if not EMAIL_PATTERN.match(email):
        raise ValidationError(f"{email!r} is not a valid e-mail address.")
    if staff_rows.user_by_email(db, email):
        raise ValidationError(f"There is already an account for {email}.")
    if len(password or "") < PASSWORD_MIN_LENGTH:
        raise ValidationError(f"The password needs at least {PASSWORD_MIN_LENGTH} characters.")
    if role == "dispatcher" and not service_codes:
        raise ValidationError("A dispatcher needs at least one --service.")
    services = catalog.services_by_code(db)
    unknown = [code for code in service_codes if code not in services]
    if unknown:
        raise ValidationError(f"Unknown service: {', '.join(unknown)}.")
    return staff_rows.create_user(db, email, generate_password_hash(password), role,
                                  [services[code]["id"] for code in service_codes])
