"""Open311 documents as JSON or XML, from the same Python values.

XML follows the GeoReport v2 examples: a root element, one child per item, booleans as
true/false, missing values as empty elements, lists inside an element named by their items.
Text XML cannot carry (controls stored before input was checked) is dropped, so a document
is always well-formed.
"""

import json
from xml.etree import ElementTree

from flask import Response

from app.fields import xml_safe

#: The element name of the items of a list, by the name of the list.
ITEM_NAMES = {
    "services": "service", "service_requests": "request", "errors": "error",
    "attributes": "attribute", "values": "value", "endpoints": "endpoint",
    "formats": "format", "history": "event", "service_request_updates": "request_update",
    "media_urls": "media_url",
}
#: With the charset, as the spec's clients (and RFC 8259 readers that guess) expect.
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def render(value, fmt, root, status=200):
    """A response of ``value`` (a list or a dict) in ``fmt``; ``root`` names the XML root."""
    if fmt == "xml":
        element = ElementTree.Element(root)
        _fill(element, value, root)
        body = ElementTree.tostring(element, encoding="unicode", xml_declaration=True)
    else:
        body = json.dumps(value)
    return Response(body, status=status, content_type=CONTENT_TYPES[fmt])


def _fill(element, value, name):
    if isinstance(value, list):
        for item in value:
            _fill(ElementTree.SubElement(element, ITEM_NAMES.get(name, "item")), item, name)
    elif isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item, key)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = xml_safe(str(value))


def error_response(status, message, fmt):
    """The spec's error list, in the requested format."""
    return render([{"code": status, "description": message}], fmt, "errors", status)
