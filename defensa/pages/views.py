"""Public pages: no account, no JavaScript needed, nothing about the visitor kept."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/home.html")


def rights(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/rights.html")
