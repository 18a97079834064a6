"""Walk every URL pattern and build concrete sample paths for it (used by property 3 and 13).

The walk is generic on purpose: views added later are covered without touching the tests.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import (
    IntConverter,
    PathConverter,
    SlugConverter,
    StringConverter,
    UUIDConverter,
)
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

SAMPLE_UUID = "0b6f0e7c-3a1d-4c8e-9f2a-5d6e7f809a1b"
# Looks like a 128-bit+ urlsafe token (invitations, responder links) but is not a real one.
SAMPLE_TOKEN = "Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC10b2tlbg"
_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<param>[^>]+)>")


@dataclass(frozen=True)
class Endpoint:
    name: str  # "namespace:name", or the route for an unnamed pattern
    route: str  # the pattern chain as written, e.g. "committees/<slug:slug>/"
    chain: tuple[Any, ...]  # pattern objects from the root down
    callback: Callable[..., Any]


@dataclass(frozen=True)
class Samples:
    """Values to put in path converters; each list gives one sample URL per value."""

    ints: tuple[int, ...] = (999999,)
    slugs: tuple[str, ...] = ("x",)
    extra: dict[str, str] = field(default_factory=dict)  # param name -> value, wins over type


def endpoints(urlconf: str | None = None) -> list[Endpoint]:
    found: list[Endpoint] = []

    def walk(patterns: list[Any], chain: tuple[Any, ...], namespaces: tuple[str, ...]) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
                walk(entry.url_patterns, (*chain, entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                full = (*chain, entry.pattern)
                route = "".join(str(p) for p in full)
                name = ":".join((*namespaces, entry.name)) if entry.name else f"<unnamed {route}>"
                found.append(Endpoint(name, route, full, entry.callback))

    walk(get_resolver(urlconf).url_patterns, (), ())
    return found


def _candidates(param: str, converter: Any, samples: Samples) -> list[str]:
    if param in samples.extra:
        return [samples.extra[param]]
    if isinstance(converter, IntConverter):
        return [str(i) for i in samples.ints]
    if isinstance(converter, UUIDConverter):
        return [SAMPLE_UUID]
    if isinstance(converter, SlugConverter):
        return list(samples.slugs)
    if isinstance(converter, StringConverter | PathConverter):
        return [SAMPLE_TOKEN] if "token" in param.lower() else ["x"]
    # A project converter: offer everything plausible, keep what its regex and parser accept.
    pool = [*map(str, samples.ints), *samples.slugs, SAMPLE_TOKEN, SAMPLE_UUID, "x"]
    fitting = []
    for value in pool:
        if re.fullmatch(converter.regex, value):
            try:
                converter.to_python(value)
            except ValueError:
                continue
            fitting.append(value)
    return fitting[:3]


def _part_options(pattern: Any, samples: Samples) -> list[str]:
    if isinstance(pattern, RoutePattern):
        route = str(pattern)
        params = [(m.group("param"), m) for m in _ROUTE_PARAM.finditer(route)]
        choices = [_candidates(p, pattern.converters[p], samples) for p, _ in params]
        if any(not c for c in choices):
            return []
        options = []
        for combo in itertools.product(*choices):
            values = dict(zip((p for p, _ in params), combo, strict=True))
            options.append(_ROUTE_PARAM.sub(lambda m, v=values: v[m.group("param")], route))
        return options
    if isinstance(pattern, RegexPattern):
        options = []
        for fmt, params in normalize(pattern.regex.pattern):
            pool = ("x", "1", "2026", *map(str, samples.ints), *samples.slugs, SAMPLE_TOKEN)
            for value in pool:
                text = fmt % dict.fromkeys(params, value)
                if pattern.regex.fullmatch(text):
                    options.append(text)
                    break
        return options
    return [str(pattern)]


def sample_paths(endpoint: Endpoint, samples: Samples) -> list[str]:
    """Concrete paths for the endpoint; empty when no sample value fits (the caller fails)."""
    per_part = [_part_options(p, samples) for p in endpoint.chain]
    if any(not options for options in per_part):
        return []
    return sorted({"/" + "".join(parts) for parts in itertools.product(*per_part)})


def resolves_to(path: str, endpoint: Endpoint, urlconf: str | None = None) -> bool:
    try:
        match = resolve(path, urlconf)
    except Exception:  # noqa: BLE001 - any failure means the sample is wrong
        return False
    return match.func is endpoint.callback


def iter_samples(
    endpoint_list: list[Endpoint], samples: Samples, urlconf: str | None = None
) -> Iterator[tuple[Endpoint, str]]:
    for endpoint in endpoint_list:
        for path in sample_paths(endpoint, samples):
            yield endpoint, path
