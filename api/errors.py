"""One error shape everywhere under ``/api/``: ``{"detail": "<sentence>"}``, plus ``"errors"`` on a
validation failure (field → messages, or, for a bulk push, item index → messages). 401, 403, 404, 405,
429 and 500 alike, never an HTML page: DRF's errors pass through :func:`exception_handler`; a URL under
``/api/`` that matches nothing, and an unhandled exception, through the project's ``handler404`` /
``handler500`` (:func:`page_not_found`, :func:`server_error`), which answer JSON under ``/api/`` only.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unhandled: Django's handler500 (server_error below) answers
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        detail = getattr(exc, "summary", None) or "The request is not valid: see errors."
        if isinstance(data, list):
            data = {"non_field_errors": data}
        response.data = {"detail": detail, "errors": data}
    elif not isinstance(response.data, dict) or "detail" not in response.data:
        response.data = {"detail": str(response.data)}
    return response


def is_api_request(request):
    return request.path.startswith(API_PREFIX)


def page_not_found(request, exception):
    if is_api_request(request):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


@csrf_exempt  # a PATCH to no URL is a 404, not the CSRF middleware's HTML 403 (API keys are not cookies)
@login_not_required
def api_not_found(request, *args, **kwargs):
    """The last URL under ``/api/``: what matches nothing is a JSON 404 (with ``DEBUG`` on too, where
    Django would show its technical page instead of ``handler404``)."""
    detail = "Not found." if request.path.endswith("/") else "Not found. API URLs end with a slash."
    return JsonResponse({"detail": detail}, status=status.HTTP_404_NOT_FOUND)


def server_error(request):
    if is_api_request(request):
        return JsonResponse({"detail": "Server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)


class BulkValidationError(exceptions.ValidationError):
    """A 400 whose ``errors`` are keyed by item index, with a summary sentence as ``detail``."""

    def __init__(self, errors, summary):
        super().__init__(errors)
        self.summary = summary
