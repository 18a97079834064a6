from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from defensa.core.access import public, signed_in


@public
def login_view(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    response = redirect("pages:home")
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")


@signed_in
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")
