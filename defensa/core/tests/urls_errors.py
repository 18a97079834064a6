"""A test-only URLconf: the project's own URLs plus views that refuse or crash."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from defensa.core.access import public
from defensa.urls import urlpatterns as project


@public
def refuse(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


@public
def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("deliberate test crash for the 500 page")


urlpatterns = [path("refuse/", refuse), path("crash/", crash), *project]
