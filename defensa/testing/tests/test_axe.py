"""The axe watch itself: a page with a violation is reported, with JavaScript on and off."""

from __future__ import annotations

import pytest

from defensa.testing import axe

BAD = "<!doctype html><title>t</title><main><img src='x.png'><input></main>"
GOOD = "<!doctype html><html lang='en'><title>t</title><main><h1>Fine</h1></main></html>"


def serve(context) -> None:  # type: ignore[no-untyped-def]
    def fulfil(route) -> None:  # type: ignore[no-untyped-def]
        body = BAD if route.request.url.endswith("/bad") else GOOD
        route.fulfill(status=200, content_type="text/html", body=body)

    context.route("http://axe.invalid/**", fulfil)


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False])
def test_a_violation_is_found_and_a_clean_page_is_not(browser, javascript) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=javascript)
    serve(context)
    page = context.new_page()
    page.goto("http://axe.invalid/good")
    page.goto("http://axe.invalid/bad")
    if not javascript:  # the context that checks again must be served the same pages
        context.prepare_check(serve)
    context.close()
    found = {url: {v["id"] for v in violations} for url, violations in axe.WATCH.found}
    checked = set(axe.WATCH.checked)
    axe.WATCH.reset()  # this test's violations are on purpose
    assert checked == {"http://axe.invalid/good", "http://axe.invalid/bad"}
    assert set(found) == {"http://axe.invalid/bad"}
    assert {"image-alt", "html-has-lang"} <= found["http://axe.invalid/bad"]
