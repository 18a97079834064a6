"""Public pages: no account, no JavaScript needed, nothing about the visitor kept.

Every view here is `@public`. The texts live in the templates (pages/templates/pages/) and
their Spanish in locale/es/LC_MESSAGES/django.po; see docs/public-pages.md.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from defensa.core.access import public

# Know-your-rights topics: URL slug -> template. The order is the order of the index.
RIGHTS_TOPICS = ("home", "work", "street", "court", "card")


@public
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/home.html")


@public
@require_safe
def report(request: HttpRequest) -> HttpResponse:
    # The online report form arrives with the intake work; until then this page says
    # plainly what to do and does not pretend to take a report.
    return render(request, "pages/report.html")


@public
@require_safe
def rights(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/rights/index.html")


@public
@require_safe
def rights_topic(request: HttpRequest, topic: str) -> HttpResponse:
    if topic not in RIGHTS_TOPICS:
        raise Http404
    return render(request, f"pages/rights/{topic}.html", {"topic": topic})


@public
@require_safe
@cache_control(max_age=86400, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    # Nothing here should be indexed: a search result can lead someone to a network's page.
    return HttpResponse("User-agent: *\nDisallow: /\n", content_type="text/plain; charset=utf-8")


@public
@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    # Some browsers ask for /favicon.ico whatever the page links; answer with the SVG.
    return redirect(static("defensa/favicon.svg"), permanent=True)
