"""A phone in Spanish with JavaScript off: home -> rights -> card -> English, weighed."""

from __future__ import annotations

import pytest

PHONE = {"width": 360, "height": 740}
MAX_BYTES = 30 * 1024


class Weigher:
    """Sums what each page load transferred: response headers and bodies as sent."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.loaded: list[tuple[str, int]] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        page.on("requestfinished", self._finished)
        page.on("requestfailed", lambda request: self.failed.append(request.url))
        page.on("console", lambda m: m.type == "error" and self.console.append(m.text))

    def _finished(self, request) -> None:  # type: ignore[no-untyped-def]
        # Measured now: a body is gone once the page navigates away.
        response = request.response()
        if response is None:
            return
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")
        sizes = request.sizes()
        body = sizes["responseBodySize"]
        if body <= 0 and 200 <= response.status < 300:  # not reported: the body itself
            body = len(response.body())
        self.loaded.append((request.url, body + sizes["responseHeadersSize"]))

    def take(self) -> tuple[int, list[str]]:
        # Every request of the page has finished (and its event arrived) before we sum.
        self.page.wait_for_load_state("networkidle")
        total = sum(size for _, size in self.loaded)
        urls = [url for url, _ in self.loaded]
        self.loaded.clear()
        return total, urls


@pytest.mark.browser
def test_phone_in_spanish_without_javascript(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server.url,
        java_script_enabled=False,
        locale="es-US",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    weigh = Weigher(page)
    weights: dict[str, int] = {}
    try:
        page.goto("/")
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.get_by_role("link", name="Reporta lo que ves").is_visible()
        # Touch targets: the main actions and the language chooser are at least 44px tall.
        chooser = page.locator("details.lang > summary")
        assert "Español" in chooser.inner_text()
        for target in (
            page.get_by_role("link", name="Reporta lo que ves"),
            chooser,
            page.get_by_role("link", name="En tu casa", exact=True),
        ):
            box = target.bounding_box()
            assert box and box["height"] >= 44, target
        weights["/"], _ = weigh.take()

        # One tap to the form; the advice is folded beside it, its page one more tap away.
        page.get_by_role("link", name="Reporta lo que ves").click()
        page.wait_for_url("**/report/new/")
        assert page.locator("main form").count() == 1
        weights["/report/new/"], _ = weigh.take()
        page.locator("details.advice > summary").click()
        page.get_by_role("link", name="Más consejos antes de reportar").click()
        page.wait_for_url("**/report/")
        assert page.get_by_role("heading", level=1).inner_text() == "Reporta lo que ves"
        assert page.locator("main form").count() == 0
        weights["/report/"], _ = weigh.take()

        page.get_by_role("link", name="Tus derechos", exact=True).click()
        page.wait_for_url("**/rights/")
        weights["/rights/"], _ = weigh.take()
        page.get_by_role("link", name="En tu casa", exact=True).first.click()
        page.wait_for_url("**/rights/home/")
        assert page.get_by_role("heading", level=1).inner_text() == "Si llegan agentes a tu casa"
        assert page.get_by_role("heading", name="Esto no es asesoría legal").is_visible()
        weights["/rights/home/"], loaded = weigh.take()
        assert any(url.endswith(".css") for url in loaded)

        page.get_by_role("link", name="Tarjeta de derechos").first.click()
        page.wait_for_url("**/rights/card/")
        assert "I am using my right to remain silent" in page.locator(".rights-card").inner_text()
        weights["/rights/card/"], _ = weigh.take()

        # Switch to English with the plain form, JavaScript still off: same page, in English.
        page.locator("details.lang > summary").click()
        english = page.get_by_role("button", name="English")
        box = english.bounding_box()
        assert box and box["height"] >= 44
        english.click()
        page.wait_for_url("**/rights/card/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", level=1).inner_text() == "Rights card"
        page.locator("details.lang > summary").click()
        assert page.get_by_role("button", name="Español").is_visible()
        page.get_by_role("link", name="At work", exact=True).first.click()
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading == "If agents come to your workplace"
        weights["/rights/work/ (en)"], _ = weigh.take()
    finally:
        context.close()

    assert weigh.errors == []  # no 404 (favicon included), no 403 from the switcher
    assert weigh.failed == []
    assert weigh.console == []  # no CSP violation or missing resource reported
    assert all(0 < size <= MAX_BYTES for size in weights.values()), weights
