"""The AppError family: each error carries its HTTP status and a message for a resident.

This module imports no Flask, so storage, photos and submit can raise these errors; the one
handler that turns them into responses is in :mod:`app.handlers`.
"""


class AppError(Exception):
    """Base class: ``str(error)`` is shown to the user as is."""

    status = 400

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class ValidationError(AppError):
    """The request is malformed or a field is invalid."""

    status = 400


class PhotoError(ValidationError):
    """An uploaded file is not a usable photo."""


class NotCovered(AppError):
    """The point is outside every service area, or the category is not handled there."""

    status = 422


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class StorageUnavailable(AppError):
    """The server could not write (disk full, I/O error); the resident may try again."""

    status = 503
