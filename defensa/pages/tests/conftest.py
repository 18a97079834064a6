import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Production uses WhiteNoise's manifest storage, which needs `collectstatic` first; the
    # tests render templates without it. bench/page_weight.py measures the real thing.
    settings.STATIC_ROOT = tmp_path  # WhiteNoise warns when STATIC_ROOT does not exist
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
