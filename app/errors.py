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


class FieldErrors(ValidationError):
    """Every problem found in one pass over a form, each under the field it belongs to.

    ``fields`` maps a field name to its :class:`Text`; ``str(error)`` is all of them in
    English. The status is 422 when the only problems are where the report is (not covered),
    400 otherwise.
    """

    def __init__(self, fields, status=400):
        self.fields = dict(fields)
        self.status = status
        first = next(iter(self.fields.values()))
        super().__init__(first.template, **first.params)
        self.args = (" ".join(str(text) for text in self.fields.values()),)

    def __str__(self):
        return self.args[0]


class FieldChecks:
    """Collects the problems of a form's fields, so a resident hears of all of them at once.

    >>> checks = FieldChecks()
    >>> checks.add("category", Text("Choose what kind of problem this is."))
    >>> checks.run("description", str.strip, "  a hole ")
    'a hole'
    >>> checks.has("category"), checks.has("description")
    (True, False)
    """

    def __init__(self):
        self.fields = {}
        self.statuses = set()

    def add(self, field, text, status=400):
        """Record a problem with a field (the first one found for that field is kept)."""
        self.fields.setdefault(field, text)
        self.statuses.add(status)

    def run(self, field, check, *args):
        """``check(*args)``; an :class:`AppError` it raises is recorded under ``field``
        instead (and None returned). Only validation and coverage errors are collected:
        a busy or broken server still stops the submission."""
        try:
            return check(*args)
        except (ValidationError, NotCovered) as error:
            self.add(field, error.text, error.status)
            return None

    def has(self, *fields):
        return any(field in self.fields for field in fields)

    def raise_any(self):
        """Raise :class:`FieldErrors` if any problem was recorded."""
        if self.fields:
            raise FieldErrors(self.fields, 422 if self.statuses == {422} else 400)


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
