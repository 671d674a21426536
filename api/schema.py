"""OpenAPI: the bearer key as the security scheme (loaded from ``ApiConfig.ready``)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal or vendor API key: `Authorization: Bearer sla_…`.",
        }


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error under `/api/`: a sentence, and on a validation failure what is wrong where.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in a sentence."},
        "errors": {
            "type": "object",
            "description": "Validation failures only: messages by field name (`non_field_errors` for the whole "
            "request) or, for a bulk push, by item index from 0.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail"],
}
ERROR_RESPONSES = {
    "400": "The request is not valid (a filter, the cursor or the body): `errors` says what and where; "
    "nothing was changed.",
    "401": "No key, or a key that is unknown, revoked or expired.",
    "403": "This key may not do this: its user's role, or a row of another vendor or manager; nothing was changed.",
    "404": "No such row visible to this key (or, on a list, a cursor that is not one of ours).",
    "429": "Too many requests for this key: try again after `Retry-After` seconds.",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation documents the errors it may answer (in the
    one JSON shape of ``api.errors``), so a client, and schemathesis, know every status code to expect.
    A description an operation gives itself (e.g. the push's 400 and 403) is kept."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                response = responses.setdefault(status, {"description": description})
                response.setdefault("content", body)
            responses["429"].setdefault(
                "headers",
                {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}},
            )
    return result
