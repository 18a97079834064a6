import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):  # type: ignore[no-untyped-def]
    # Production uses WhiteNoise's manifest storage, which needs `collectstatic` first; the
    # tests render templates without it. bench/page_weight.py measures the real thing.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
