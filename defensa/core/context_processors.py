from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from defensa.core import languages


def site(request: HttpRequest) -> dict:
    current = languages.get(translation.get_language())
    return {
        "NETWORK_NAME": settings.NETWORK_NAME,
        "HOTLINE_NUMBER": settings.HOTLINE_NUMBER,
        "DEMO": settings.DEMO,
        # The language chooser of base.html: every language named in itself.
        "LANGUAGE_CHOICES": languages.ALL,
        "LANGUAGE_CURRENT": current,
        # An unreviewed language shows a notice pointing to the reviewed ones (base.html).
        "LANGUAGE_UNREVIEWED": not current.reviewed,
    }
