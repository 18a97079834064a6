from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST


def login_view(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    response = redirect("pages:home")
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")


@login_required
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")
