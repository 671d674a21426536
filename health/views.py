from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import checks


@login_not_required
@never_cache
@require_safe
@transaction.non_atomic_requests  # a database that is down must give a 503 from this view, not a 500 before it
def health(request):
    """``/health/``: JSON of every check; 200 when all pass, 503 naming the failing ones otherwise.

    ``?only=database,broker`` runs some of them (the web container's own health check does: its
    health must not wait for beat, whose container waits for it)."""
    names = checks.NAMES
    if request.GET.get("only"):
        names = [name.strip() for name in request.GET["only"].split(",") if name.strip()]
        unknown = sorted(set(names) - set(checks.NAMES))
        if unknown or not names:
            return JsonResponse({"error": f"unknown checks {unknown}; known: {list(checks.NAMES)}"}, status=400)
    results = checks.run(names)
    failing = [name for name, result in results.items() if not result["ok"]]
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": results}
    return JsonResponse(body, status=503 if failing else 200)
