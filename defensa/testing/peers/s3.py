"""A local S3-compatible object store on loopback: moto's server mode (a development
dependency, requirements-dev.txt), for the tests of the shared file store (defensa.core.media).

    with S3Peer().running() as peer:   # a free loopback port, the bucket made
        peer.storage()                  # the STORAGES["media"] entry pointing at it
        peer.objects()                  # every object's name and bytes, as stored
        peer.stop()                     # "the object store unreachable"
"""

from __future__ import annotations

import contextlib
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self

from defensa.core.object_store import s3_media_storage
from defensa.testing.peers import HOST

BUCKET = "defensa-media"
ACCESS_KEY = "loopback-access"
SECRET_KEY = "loopback-secret"  # noqa: S105 - a loopback test server's
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class S3Peer:
    port: int = 0
    server: Any = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def storage(self, *, prefix: str = "") -> dict[str, Any]:
        return s3_media_storage(
            bucket=BUCKET,
            endpoint_url=self.base_url,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            region=REGION,
            prefix=prefix,
            timeout_s=2,
        )

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.base_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def objects(self) -> dict[str, bytes]:
        client = self.client()
        listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {
            o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed
        }

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = self.port or free_port()
        self.server = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)
        self.server.start()
        # moto keeps its buckets per process: start every test from an empty store.
        reset = urllib.request.Request(  # noqa: S310 - our loopback server
            f"{self.base_url}/moto-api/reset", method="POST"
        )
        urllib.request.urlopen(reset, timeout=5).close()  # noqa: S310 - our loopback server
        self.client().create_bucket(Bucket=BUCKET)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Self]:
        self.start()
        try:
            yield self
        finally:
            self.stop()
