"""The settings of an S3-compatible object store for files (defensa.core.media), in one place.

Read by settings.py from the environment (DEFENSA_S3_*), and by the tests with a loopback
server's address; nothing here touches the network.
"""

from __future__ import annotations

from typing import Any


def s3_media_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    access_key: str = "",
    secret_key: str = "",
    region: str = "",
    prefix: str = "",
    addressing_style: str = "path",
    timeout_s: int = 10,
) -> dict[str, Any]:
    """The STORAGES["media"] entry for django-storages' S3 backend."""
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "region_name": region or None,
            "location": prefix,
            # Never a public object: files are served only by Defensa's access-checked views.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": True,  # random 128-bit names; spares a HEAD request per file
            "client_config": Config(
                s3={"addressing_style": addressing_style},
                signature_version="s3v4",
                connect_timeout=timeout_s,
                read_timeout=timeout_s * 3,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        },
    }
