"""/healthz for load balancers and uptime checkers; /metrics for Prometheus, behind a token;
/readiness/ for network admins: what the network still needs before a real report."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from defensa.core.access import public
from defensa.ops import health, metrics, readiness
from defensa.ops.access import readiness_for


@public
@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when every check passes, 503 otherwise; each check only as yes or no."""
    results = health.checks(health.figures())
    ok = all(results.values())
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": results}, status=200 if ok else 503
    )


def _token_ok(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(token.strip().encode(), expected.encode())
    )


@require_GET
@never_cache
def prometheus(request: HttpRequest) -> HttpResponse:
    """Role-checked by its token: without `DEFENSA_METRICS_TOKEN`, or with a wrong one, 404."""
    if not _token_ok(request):
        raise Http404
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")


@require_GET
@never_cache
def readiness_page(request: HttpRequest) -> HttpResponse:
    """What the network still needs before it can take a real report (network admins)."""
    lines = readiness_for(request.user)
    return render(
        request,
        "ops/readiness.html",
        {"lines": lines, "left": readiness.left_to_do(lines)},
    )
