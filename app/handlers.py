"""The one error handler: it picks the format (HTML page or JSON) from the route."""

from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors import AppError
from app.open311.formats import error_response

FRIENDLY = {
    400: "The request could not be understood.",
    403: "You are not allowed to see or change this.",
    429: "Too many requests from your connection: wait a while and try again.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "The upload is too large: photos may total at most {limit} MB.",
}


def wants_json():
    return request.path.startswith("/api/")


def render_error(status, message):
    if request.path.startswith("/open311/"):
        fmt = "xml" if request.path.endswith(".xml") else "json"
        return error_response(400 if status == 422 else status, message, fmt)
    if wants_json():
        return jsonify({"error": {"status": status, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def handle_app_error(error):
    return render_error(error.status, error.message)


def handle_http_error(error):
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = FRIENDLY.get(error.code, error.description).format(limit=limit)
    return render_error(error.code, message)


def handle_csrf_error(_error):
    return render_error(400, "This form has expired or did not come from this site: "
                             "reload the page and try again.")


def register(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_error)
