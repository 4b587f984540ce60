"""The one error handler: it picks the format (HTML page or JSON) from the route."""

from flask import current_app, jsonify, make_response, render_template, request
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors import AppError
from app.web.i18n import field_messages, message_of
from app.web.open311_formats import error_response

FRIENDLY = {
    400: _l("The request could not be understood."),
    403: _l("You are not allowed to see or change this."),
    429: _l("Too many requests from your connection: wait a while and try again."),
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept that kind of request."),
    413: _l("The upload is too large: photos may total at most %(limit)s MB."),
}


def is_open311():
    """Open311 speaks to programs: its messages stay in English, like its field names."""
    return request.path.startswith("/open311/")


def in_reply_language(text):
    """A lazily translated text: English for Open311, the reader's language elsewhere."""
    if is_open311():
        with force_locale("en"):
            return str(text)
    return str(text)


def wants_json():
    return request.path.startswith("/api/")


def render_error(status, message, fields=None):
    if is_open311():
        fmt = "xml" if request.path.endswith(".xml") else "json"
        return error_response(400 if status == 422 else status, message, fmt)
    if wants_json():
        body = {"status": status, "message": message, **({"fields": fields} if fields else {})}
        return jsonify({"error": body}), status
    return render_template("error.html", status=status, message=message), status


def handle_app_error(error):
    response = make_response(render_error(
        error.status, str(error) if is_open311() else message_of(error), field_messages(error)))
    response.headers.update(error.headers)
    return response


def handle_http_error(error):
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = in_reply_language(FRIENDLY.get(error.code, error.description))
    return render_error(error.code, message % {"limit": limit} if error.code == 413 else message)


def handle_csrf_error(_error):
    return render_error(400, gettext("This form has expired or did not come from this site: "
                                     "reload the page and try again."))


def register(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_error)
