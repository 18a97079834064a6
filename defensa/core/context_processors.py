from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {
        "NETWORK_NAME": settings.NETWORK_NAME,
        "HOTLINE_NUMBER": settings.HOTLINE_NUMBER,
        "DEMO": settings.DEMO,
    }
