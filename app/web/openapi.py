"""The OpenAPI 3 document of the Open311 JSON API, served at /open311/v2/openapi.json."""


def _string(**extra):
    return {"type": "string", **extra}


NULLABLE_STRING = {"type": "string", "nullable": True}
SCHEMAS = {
    "Error": {"type": "object", "required": ["code", "description"],
              "properties": {"code": {"type": "integer"}, "description": _string()}},
    "Errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}},
    "Service": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": _string(), "service_name": _string(), "description": _string(),
            "metadata": {"type": "boolean"},
            "type": _string(enum=["realtime", "batch", "blackbox"]),
            "keywords": _string(), "group": _string(),
        },
    },
    "ServiceDefinition": {
        "type": "object", "required": ["service_code", "attributes"],
        "properties": {"service_code": _string(), "attributes": {
            "type": "array", "items": {"$ref": "#/components/schemas/Attribute"}}},
    },
    "Attribute": {
        "type": "object", "description": "A question; POST answers as attribute[code]=value, "
                                         "repeating attribute[code][]=value for a "
                                         "multivaluelist.",
        "required": ["variable", "code", "datatype", "required", "datatype_description",
                     "order", "description"],
        "properties": {
            "variable": {"type": "boolean"}, "code": _string(),
            "datatype": _string(enum=["string", "number", "datetime", "text",
                                      "singlevaluelist", "multivaluelist"]),
            "required": {"type": "boolean"}, "datatype_description": NULLABLE_STRING,
            "order": {"type": "integer"}, "description": _string(),
            "values": {"type": "array", "items": {
                "type": "object", "required": ["key", "name"],
                "properties": {"key": _string(), "name": _string()}}},
        },
    },
    "Request": {
        "type": "object",
        "required": ["service_request_id", "status", "service_code", "requested_datetime",
                     "lat", "long"],
        "properties": {
            "service_request_id": _string(),
            "status": _string(enum=["open", "closed"]),
            "status_notes": _string(), "service_name": _string(), "service_code": _string(),
            "description": _string(), "agency_responsible": _string(),
            "service_notice": _string(),
            "requested_datetime": _string(format="date-time"),
            "updated_datetime": _string(format="date-time"),
            "expected_datetime": {**NULLABLE_STRING, "format": "date-time"},
            "address": _string(), "address_id": _string(),
            "lat": {"type": "number"}, "long": {"type": "number"},
            "media_url": NULLABLE_STRING,
            "extended_attributes": {"type": "object"},
        },
    },
    "Created": {
        "type": "object", "required": ["service_request_id", "token"],
        "properties": {"service_request_id": _string(), "token": _string(),
                       "service_notice": _string()},
    },
    "Update": {
        "type": "object",
        "required": ["update_id", "service_request_id", "status", "updated_datetime"],
        "properties": {"update_id": _string(), "service_request_id": _string(),
                       "status": _string(), "updated_datetime": _string(format="date-time"),
                       "description": _string(), "media_url": _string()},
    },
    "PostedUpdate": {"type": "object", "required": ["update_id"],
                     "properties": {"update_id": _string()}},
    "Discovery": {"type": "object", "required": ["changeset", "endpoints"],
                  "properties": {"changeset": _string(), "contact": _string(),
                                 "key_service": _string(),
                                 "endpoints": {"type": "array", "items": {"type": "object"}}}},
}


def _query(name, description, **schema):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


JURISDICTION = _query("jurisdiction_id", "Optional; another jurisdiction gets 404.")


def _array_of(schema):
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}}


def _responses(schema, *errors):
    responses = {"200": {"description": "OK",
                         "content": {"application/json": {"schema": schema}}}}
    for code in ("404", *errors):
        responses[code] = {"description": "Error list",
                           "content": {"application/json": {
                               "schema": {"$ref": "#/components/schemas/Errors"}}}}
    return responses


def _get(summary, schema, parameters=(), errors=("400",)):
    return {"get": {"summary": summary, "parameters": [JURISDICTION, *parameters],
                    "responses": _responses(schema, *errors)}}


def _path(name, description):
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


SEARCH = [
    _query("service_request_id", "Comma-separated ids; overrides every other filter."),
    _query("service_code", "Comma-separated service codes."),
    _query("start_date", "W3C date-time; the window is at most 90 days."),
    _query("end_date", "W3C date-time; defaults to the last 90 days."),
    _query("status", "open, closed or both, comma-separated."),
    _query("page", "Page number, from 1.", type="integer"),
    _query("page_size", "Requests per page, 1 to 1000.", type="integer"),
    _query("bbox", "minlon,minlat,maxlon,maxlat"),
    _query("lat", "Latitude of a circle's centre.", type="number"),
    _query("long", "Longitude of a circle's centre.", type="number"),
    _query("radius", "Circle radius in metres (default 1000, at most 50000).", type="number"),
    _query("extensions", "true adds the detailed status, the history and the public "
                         "answers to the service's questions."),
]
POST_FIELDS = {
    "type": "object",
    "required": ["api_key", "service_code"],
    "properties": {
        "api_key": _string(description="Only here, in the body: a key in the URL gets 400."),
        "service_code": _string(), "lat": {"type": "number"},
        "long": {"type": "number"}, "description": _string(), "email": _string(),
        "first_name": _string(), "last_name": _string(),
        "phone": _string(description="Private, like the e-mail."),
        "device_id": _string(), "account_id": _string(),
        "address_string": _string(description="Kept and returned as address; without "
                                              "lat/long, placed when it is an exact address."),
        "address_id": _string(),
        "media_url": {"type": "array", "items": _string(format="uri"),
                      "description": "Repeat for several links, one per photo slot."},
        "jurisdiction_id": _string(),
    },
}
UPDATE_FIELDS = {
    "type": "object",
    "required": ["api_key", "service_request_id", "update_id"],
    "properties": {
        "api_key": _string(description="Only here, in the body."),
        "service_request_id": _string(),
        "update_id": _string(description="Your id of the update: a repeat records nothing."),
        "update_id_ext": _string(description="FixMyStreet's name for update_id."),
        "status": _string(description="open, closed, investigating, in_progress, fixed, "
                                      "not_responsible, duplicate... (case and spaces do not "
                                      "matter)"),
        "updated_datetime": _string(format="date-time"),
        "description": _string(), "media_url": _string(format="uri"),
        "jurisdiction_id": _string(),
    },
}


def openapi_document(server_url, year):
    multipart = {**POST_FIELDS, "properties": {
        **POST_FIELDS["properties"],
        "media": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "Photos; any part name is taken (FixMyStreet's photo1...)."}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Open311 GeoReport v2", "version": f"2.0-{year}",
                 "description": "Civic issue reports: services, requests, updates."},
        "servers": [{"url": server_url}],
        "paths": {
            "/discovery.json": _get("Discovery", {"$ref": "#/components/schemas/Discovery"},
                                    errors=()),
            "/services.json": _get("Service list", _array_of("Service"), errors=()),
            "/services/{service_code}.json": _get(
                "Service definition", {"$ref": "#/components/schemas/ServiceDefinition"},
                [_path("service_code", "A service code from the service list.")], errors=()),
            "/requests.json": {
                **_get("Search service requests", _array_of("Request"), SEARCH),
                "post": {
                    "summary": "Create a service request (api_key required)",
                    "requestBody": {"required": True, "content": {
                        "application/x-www-form-urlencoded": {"schema": POST_FIELDS},
                        "multipart/form-data": {"schema": multipart},
                    }},
                    "responses": _responses(_array_of("Created"), "400", "403", "413"),
                },
            },
            "/requests/{service_request_id}.json": _get(
                "One service request", _array_of("Request"),
                [_path("service_request_id", "The request's id."),
                 _query("extensions", "true adds the detailed status and the history.")]),
            "/tokens/{token}.json": _get("Service request id for a token",
                                         _array_of("Created"),
                                         [_path("token", "The request token answered by "
                                                         "POST requests.")],
                                         errors=()),
            "/servicerequestupdates.json": {
                **_get("Status updates by date range", _array_of("Update"),
                       [_query("start_date", "W3C date-time."),
                        _query("end_date", "W3C date-time."),
                        _query("page", "Page number, from 1.", type="integer"),
                        _query("page_size", "Updates per page, 1 to 1000.", type="integer"),
                        _query("api_key", "Not needed for reading.")], errors=("400", "429")),
                "post": {
                    "summary": "A partner's update on a request (api_key required)",
                    "requestBody": {"required": True, "content": {
                        "application/x-www-form-urlencoded": {"schema": UPDATE_FIELDS}}},
                    "responses": _responses(_array_of("PostedUpdate"), "400", "403", "429"),
                },
            },
        },
        "components": {"schemas": SCHEMAS},
    }
