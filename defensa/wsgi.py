"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
application = get_wsgi_application()

# Before the first request, not during it (docs/performance.md, "Intake").
from defensa.core.geo import load_zip_table  # noqa: E402

load_zip_table()
