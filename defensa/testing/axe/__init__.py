"""axe-core in every page a browser test visits: WCAG 2.2 A and AA, violations collected.

`axe.min.js` is axe-core 4.14.1 (Deque Systems, MPL-2.0, `LICENSE` beside it), vendored for the
tests only: no page of Defensa ever loads it. `watch(context)` injects it, with a small
runner, into every document of a Playwright browser context; each top-level HTML page runs
axe once it has loaded and reports its violations through a binding into `Watch.found`.
`Watch.settle()` waits for the runs still going on the context's open pages, so the last
page of a journey is checked before the context closes.

Every address a context's pages showed is kept. A page axe could not finish in place (the
context has JavaScript off, or the test moved on before axe was done) is opened again, when
the context closes, in a JavaScript-on context with the same cookies, viewport and language,
and checked there (the same markup, as a GET shows it).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AXE = Path(__file__).with_name("axe.min.js")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

_SCRIPT = """
(() => {
  if (window.top !== window) return;
  let finish;
  window.__defensaAxeDone = new Promise((resolve) => { finish = resolve; });
  const run = () => {
    if (document.contentType !== "text/html" || !window.axe) { finish(); return; }
    window.axe
      .run(document, {runOnly: {type: "tag", values: TAGS}, resultTypes: ["violations"]})
      .then((r) => window.__defensaAxe(location.href, r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
      }))))
      .catch((e) => window.__defensaAxe(
        location.href, [{id: "axe-error", help: String(e), nodes: []}]))
      .finally(finish);
  };
  window.addEventListener("load", () => setTimeout(run, 0));
})();
"""
RUNNER = f"const TAGS = {json.dumps(TAGS)};\n{_SCRIPT}"


@dataclass
class Watch:
    """What axe found on the pages of the contexts it watches: (url, violations) per page."""

    checked: list[str] = field(default_factory=list)
    found: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def attach(self, context: Any) -> Any:
        context.add_init_script(path=str(AXE))
        context.add_init_script(script=RUNNER)
        context.expose_binding("__defensaAxe", self._report)
        return context

    def _report(self, _source: Any, url: str, violations: list[dict[str, Any]]) -> None:
        self.checked.append(url)
        if violations:
            self.found.append((url, violations))

    def settle(self, context: Any) -> None:
        """Wait for axe on every open page of `context` (a page mid-navigation is skipped)."""
        for pg in list(context.pages):
            if pg.is_closed():
                continue
            with contextlib.suppress(Exception):  # a page closing or navigating: no run to wait for
                pg.evaluate("() => window.__defensaAxeDone || null")

    def settle_all(self) -> None:
        """Close, and so check, every watched context a test left open."""
        for context in self.contexts:
            if not context.closed:
                with contextlib.suppress(Exception):  # the browser itself went away
                    context.close()
        self.contexts.clear()

    def reset(self) -> None:
        self.checked.clear()
        self.found.clear()
        self.contexts.clear()

    def summary(self) -> str:
        lines = []
        for url, violations in self.found:
            for v in violations:
                lines.append(f"{url}: {v['id']} ({v.get('impact')}): {v['help']} at {v['nodes']}")
        return "\n".join(lines)


class WatchedBrowser:
    """A Playwright Browser whose every new context is watched by `watch`."""

    def __init__(self, browser: Any, watch: Watch) -> None:
        self._browser = browser
        self.watch = watch

    def new_context(self, **kwargs: Any) -> Any:
        context = self._browser.new_context(**kwargs)
        if kwargs.get("java_script_enabled", True):
            self.watch.attach(context)
        return WatchedContext(context, self, kwargs)

    def check_again(self, urls: list[str], state: Any, kwargs: dict[str, Any]) -> None:
        """Open `urls` in a JavaScript-on context like the one that showed them, under axe."""
        kwargs = {**kwargs, "java_script_enabled": True, "storage_state": state}
        context = self.watch.attach(self._browser.new_context(**kwargs))
        try:
            pg = context.new_page()
            for url in urls:
                pg.goto(url)
                pg.evaluate("() => window.__defensaAxeDone || null")
        finally:
            context.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


class WatchedContext:
    """A BrowserContext whose pages are all checked by the time it closes.

    Pages that axe could not finish in place (JavaScript off, or left before axe was done)
    are opened again by GET in a JavaScript-on context with the same cookies and checked there.
    """

    def __init__(self, context: Any, browser: WatchedBrowser, kwargs: dict[str, Any]) -> None:
        self._context = context
        self._browser = browser
        self._kwargs = kwargs
        self._shown: list[str] = []
        self.closed = False
        context.on("page", self._watch_page)
        browser.watch.contexts.append(self)

    def _watch_page(self, pg: Any) -> None:
        pg.on("framenavigated", lambda frame: self._seen(pg, frame))

    def _seen(self, pg: Any, frame: Any) -> None:
        if frame == pg.main_frame and frame.url.startswith("http") and frame.url not in self._shown:
            self._shown.append(frame.url)

    def close(self, *args: Any, **kwargs: Any) -> None:
        if self.closed:
            return
        self.closed = True
        watch = self._browser.watch
        watch.settle(self._context)
        unchecked = [url for url in self._shown if url not in watch.checked]
        state = self._context.storage_state() if unchecked else None
        self._context.close(*args, **kwargs)
        if unchecked:
            self._browser.check_again(unchecked, state, self._kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def __enter__(self) -> WatchedContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


WATCH = Watch()  # the one the suite's browser fixture uses (conftest.py)
