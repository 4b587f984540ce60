"""The AppError family: each error carries its HTTP status and words for a resident.

This module imports no Flask, so storage, photos and submit can raise these errors; the one
handler that turns them into responses is in :mod:`app.handlers`. Lower layers do not know
the reader's language, so an error holds an English template and its values (a
:class:`Text`); the handler translates it, the CLI prints it in English.
"""


class Text:
    """An English template with ``%(name)s`` fields and their values, translated when shown.

    A value may itself be a Text (e.g. "Photo 2" inside "Photo 2 is damaged") or a
    :class:`Name`.
    """

    def __init__(self, template, **params):
        self.template = template
        self.params = params

    def __str__(self):
        if not self.params:
            return self.template
        return self.template % {name: str(value) if isinstance(value, Text | Name) else value
                                for name, value in self.params.items()}


class Name:
    """A category's or service's name inside a Text: shown in the reader's language."""

    def __init__(self, kind, code, english):
        self.kind = kind
        self.code = code
        self.english = english

    def __str__(self):
        return self.english


class AppError(Exception):
    """Base class: ``str(error)`` is the English message; ``error.text`` is for translation."""

    status = 400
    #: Extra response headers this error asks for (e.g. Retry-After).
    headers = {}

    def __init__(self, template, **params):
        self.text = Text(template, **params)
        super().__init__(str(self.text))

    @classmethod
    def from_text(cls, text):
        """The same words under this error's status (e.g. a geo error for a form field)."""
        return cls(text.template, **text.params)


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


class ServerBusy(AppError):
    """Too much work of one kind at once (e.g. photo decoding); nothing was stored."""

    status = 503
    retry_after_seconds = 10

    @property
    def headers(self):
        return {"Retry-After": str(self.retry_after_seconds)}
