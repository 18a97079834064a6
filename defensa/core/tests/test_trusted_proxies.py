"""Issue 9, point 2: flood control cannot be dodged by a header nor turned on someone else.

X-Forwarded-For is written by whoever sends the request. It counts only on connections from
DEFENSA_TRUSTED_PROXIES, and then only its right-most address that is not a trusted proxy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from pytest_django.fixtures import Settings

from defensa.core.middleware import ScrubRequestMetadataMiddleware, client_address
from defensa.core.tests.proc import clean_env, manage, production_env, settings_in


def _tags(rf: RequestFactory, *requests: dict[str, str]) -> list[str]:
    seen: list[HttpRequest] = []
    scrub = ScrubRequestMetadataMiddleware(lambda r: seen.append(r) or HttpResponse())
    for meta in requests:
        scrub(rf.get("/", **meta))
    return [r.source_tag for r in seen]  # type: ignore[attr-defined]


def test_without_trusted_proxies_the_header_is_ignored(rf: RequestFactory) -> None:
    # Attack: one machine sends each request with a new made-up forwarded address.
    tags = _tags(
        rf,
        *(
            {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": f"198.51.100.{i}"}
            for i in range(5)
        ),
        {"REMOTE_ADDR": "203.0.113.9"},
    )
    assert len(set(tags)) == 1  # all one source: the peer
    # The legitimate path: another machine is another source.
    assert _tags(rf, {"REMOTE_ADDR": "203.0.113.10"})[0] != tags[0]


def test_a_header_from_an_untrusted_peer_is_ignored(settings: Settings) -> None:
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    meta = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client_address(meta, ("127.0.0.1",)) == "203.0.113.9"


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("198.51.100.1", "198.51.100.1"),
        # A client-written value on the left; our proxy appended the real peer on the right.
        ("192.0.2.66, 198.51.100.1", "198.51.100.1"),
        # Two proxies of ours (an edge and an inner one): skip both from the right.
        ("192.0.2.66, 198.51.100.1, 10.1.2.3", "198.51.100.1"),
        ("2001:db8::7, 10.1.2.3", "2001:db8::7"),
        ("", "127.0.0.1"),
    ],
)
def test_behind_trusted_proxies_the_rightmost_untrusted_address_counts(
    forwarded: str, client: str
) -> None:
    meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address(meta, ("127.0.0.1", "10.0.0.0/8")) == client


def test_bad_trusted_proxies_stop_the_server(tmp_path: Path) -> None:
    env = clean_env(tmp_path, DEFENSA_TRUSTED_PROXIES="127.0.0.1,not-an-address")
    done = manage(env, "check")
    assert done.returncode != 0
    assert "DEFENSA_TRUSTED_PROXIES" in done.stderr
    good = settings_in(
        clean_env(tmp_path, DEFENSA_TRUSTED_PROXIES="127.0.0.1, ::1, 10.0.0.0/8"), "TRUSTED_PROXIES"
    )
    assert good["TRUSTED_PROXIES"] == ["127.0.0.1", "::1", "10.0.0.0/8"]


def test_check_deploy_warns_behind_a_proxy_without_trusted_proxies(tmp_path: Path) -> None:
    env = production_env(tmp_path, DEFENSA_BEHIND_PROXY="1")
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0 and "defensa.W001" in done.stdout + done.stderr
    env = production_env(tmp_path, DEFENSA_BEHIND_PROXY="1", DEFENSA_TRUSTED_PROXIES="127.0.0.1")
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
