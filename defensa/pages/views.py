"""Public pages: no account, no JavaScript needed, nothing about the visitor kept."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from defensa.core.access import public


@public
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/home.html")


@public
def rights(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/rights.html")
