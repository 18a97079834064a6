"""The demo's "Messages sent" page: what the console transport delivered, readable in the
browser, so a newcomer does not have to read the server's terminal (docs/demo.md)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.views.decorators.cache import never_cache

from defensa.demo.access import console_deliveries_for
from defensa.notify import messages

PAGE_SIZE = 100


@never_cache
def messages_sent(request: HttpRequest) -> HttpResponse:
    rows = list(console_deliveries_for(request.user)[:PAGE_SIZE])
    cache: dict = {}
    sent = []
    for delivery in rows:
        try:
            rendered = messages.render(delivery, cache)
        except (ObjectDoesNotExist, TemplateDoesNotExist):
            rendered = None  # what the message named was since deleted, or its kind removed
        sent.append({"delivery": delivery, "message": rendered})
    return render(request, "demo/messages.html", {"sent": sent, "page_size": PAGE_SIZE})
