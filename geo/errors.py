"""Typed errors of the geo library, all under one base class.

The web app maps each one to an HTTP status; the CLI turns them into messages.
"""


class GeoError(Exception):
    """Base class of every error raised by :mod:`geo`.

    The message is a template with ``%(name)s`` fields and their values, kept apart so that
    an application can show it in its reader's language.
    """

    def __init__(self, template, **params):
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


class InvalidCoordinates(GeoError, ValueError):
    """A longitude or latitude is missing, not a number, not finite, or out of range."""


class OutsideServiceArea(GeoError, LookupError):
    """No service area handles the requested category at the requested point."""


class BoundaryFileError(GeoError, ValueError):
    """A boundary file cannot be read or would give wrong service areas."""


class PointFileError(GeoError, ValueError):
    """A point file (addresses) cannot be read, or its coordinates have no known meaning."""
