"""A test-only URLconf: one view of each access kind, one that forgot to check anything.

It proves the URL walk of test_closed_by_default can fail, reaches namespaced includes,
custom converters and regex patterns.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path, re_path, register_converter

from defensa.core.access import public, signed_in


class LongTokenConverter:
    regex = "[A-Za-z0-9_-]{32,}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LongTokenConverter, "walk-sample-token")


def forgot_to_check(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("everything, to everyone")


def checks_role(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise Http404


@public
def open_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


@signed_in
def mine(request: HttpRequest) -> HttpResponse:
    return HttpResponse("mine")


inner = (
    [
        path("leak/<int:pk>/", forgot_to_check, name="leak"),
        path("link/<walk-sample-token:code>/", forgot_to_check, name="link"),
        re_path(r"^old/(?P<year>[0-9]{4})/$", checks_role, name="old"),
        path("guarded/<slug:slug>/", checks_role, name="guarded"),
    ],
    "inner",
)

urlpatterns = [
    path("", open_page, name="open"),
    path("mine/", mine, name="mine"),
    path("deep/", include(inner)),
]
