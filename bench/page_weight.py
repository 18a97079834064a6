"""page_weight: every public page, with everything it loads, <= 30 KB transferred; no JS needed.

Starts the real server (gunicorn, scratch SQLite, collectstatic), fetches each public page in
each of the ten languages of defensa/core/languages.py (Accept-Language) with
`Accept-Encoding: gzip, br`, finds every asset
the HTML references (stylesheets, scripts, icons, images, and url()/@import inside the CSS),
fetches those with the same encodings, and sums what went over the wire for each page: status
line, headers and body exactly as sent (compressed when the server compressed it). Nothing is
cached between pages: each page is weighed as a first visit.

A page "works without JS" when its HTML has no inline <script>, no <noscript>, any <script>
is a same-origin deferred enhancement, and the content is in the server HTML: <main> has text,
its links resolve, and it is in the language asked for (<html lang>; English and Spanish by
their words). No page loads a font file: Chinese, Korean, Armenian and Arabic letters come from
the phone's own fonts. `untranslated` counts the pages of a language whose <main> reads exactly
as the English page (a language whose catalogues are not written yet); it is a figure, not a
failure, since the catalogues come from translators.
"""

from __future__ import annotations

import gzip
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bench import progress, result

TARGET_KB = 30.0
# Public pages by URL name (and arguments); see defensa/pages/urls.py.
PAGES = [
    ("pages:home", ()),
    ("pages:report", ()),
    ("reports:new", ()),  # the public report form itself
    ("pages:rights", ()),
    ("pages:rights_topic", ("home",)),
    ("pages:rights_topic", ("work",)),
    ("pages:rights_topic", ("street",)),
    ("pages:rights_topic", ("court",)),
    ("pages:rights_topic", ("card",)),
]
QUICK_PAGES = PAGES[:5]
LANGUAGES = ("en", "es", "zh-hans", "zh-hant", "ko", "tl", "vi", "hy", "ar", "ht")
FONT_FILE = re.compile(r"\.(woff2?|ttf|otf|eot)(\?|$)", re.IGNORECASE)
# Words English and Spanish pages must contain (the <html lang> must match for every language).
MARKERS = {"en": ("rights", "what you saw"), "es": ("derechos", "lo que viste")}
ASSET_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload"}
ASSET_RELS |= {"manifest", "mask-icon"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


@dataclass
class PageScan:
    """What an HTML page references and how it behaves without JavaScript."""

    assets: list[tuple[str, str]] = field(default_factory=list)  # (kind, url)
    scripts: list[dict] = field(default_factory=list)  # attributes of each <script>
    inline_scripts: int = 0
    inline_styles: int = 0  # <style> elements and style="" attributes
    noscript: int = 0
    html_lang: str = ""
    main_text: str = ""
    main_links: list[str] = field(default_factory=list)
    main_forms: int = 0


class AssetParser(HTMLParser):
    """Collects every subresource a browser would load for this HTML, and no-JS signals."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()
        self._in_main = 0
        self._in_script = False
        self._text: list[str] = []

    def _asset(self, kind: str, url: str | None) -> None:
        if url and not url.startswith(("data:", "#")):
            self.scan.assets.append((kind, url.strip()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if "style" in a:
            self.scan.inline_styles += 1
        if tag == "html":
            self.scan.html_lang = a.get("lang", "")
        elif tag == "main":
            self._in_main += 1
        elif tag == "link":
            rels = set(a.get("rel", "").lower().split())
            if rels & ASSET_RELS:
                kind = "icon" if rels & {"icon", "apple-touch-icon"} else "link"
                self._asset(kind, a.get("href"))
        elif tag == "script":
            self.scan.scripts.append(a)
            self._in_script = True
            if a.get("src"):
                self._asset("script", a["src"])
            else:
                self.scan.inline_scripts += 1
        elif tag == "style":
            self.scan.inline_styles += 1
        elif tag == "noscript":
            self.scan.noscript += 1
        elif tag in {"img", "source", "audio", "video", "embed", "iframe", "track", "input"}:
            if tag != "input" or a.get("type", "").lower() == "image":
                self._asset("image" if tag in {"img", "source", "input"} else tag, a.get("src"))
            for candidate in a.get("srcset", "").split(","):
                self._asset("image", candidate.strip().split(" ")[0] or None)
            if tag == "video":
                self._asset("image", a.get("poster"))
        elif tag == "object":
            self._asset("object", a.get("data"))
        if self._in_main:
            if tag == "a" and a.get("href"):
                self.scan.main_links.append(a["href"])
            elif tag == "form":
                self.scan.main_forms += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "main" and self._in_main:
            self._in_main -= 1
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_main and not self._in_script:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self.scan.main_text = " ".join(" ".join(self._text).split())


def scan_html(html: str) -> PageScan:
    parser = AssetParser()
    parser.feed(html)
    parser.close()
    return parser.scan


def css_references(css: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in CSS_URL.finditer(css)]


@dataclass
class Fetched:
    url: str
    status: int
    wire_bytes: int  # status line + headers + body as sent
    body: bytes  # decoded (decompressed) body
    content_type: str


def fetch(url: str, language: str) -> Fetched:
    request = urllib.request.Request(  # noqa: S310 (loopback URL built by us)
        url,
        headers={
            "Accept-Language": language,
            "Accept-Encoding": "gzip, br",
            "Accept": "text/html,text/css,image/*,*/*;q=0.8",
            "User-Agent": "defensa-bench",
        },
    )
    try:
        resp = urllib.request.urlopen(request, timeout=10)  # noqa: S310
    except urllib.error.HTTPError as err:
        resp = err
    with resp:
        raw = resp.read()
        status = resp.status
        headers = resp.headers
    head = f"HTTP/1.1 {status} {resp.reason}\r\n{headers}".replace("\n", "\r\n")
    encoding = headers.get("Content-Encoding", "").lower()
    if encoding == "gzip":
        body = gzip.decompress(raw)
    elif encoding == "deflate":
        body = zlib.decompress(raw)
    elif encoding in ("", "identity"):
        body = raw
    else:  # "br": no brotli decoder in the standard library; count it, don't parse it
        body = b""
    wire = len(head.encode("latin-1")) + len(raw)
    return Fetched(url, status, wire, body, headers.get_content_type())


def weigh_page(base: str, path: str, language: str) -> dict:
    """Fetch one page and all it references; return its weight and no-JS findings."""
    origin = urllib.parse.urlsplit(base)[:2]
    page = fetch(base + path, language)
    problems: list[str] = []
    if page.status != 200:
        problems.append(f"status {page.status}")
    html = page.body.decode("utf-8", errors="replace")
    scan = scan_html(html)
    total = page.wire_bytes
    third_party = 0
    fetched: list[str] = []
    seen: set[str] = set()
    queue = [urllib.parse.urljoin(page.url, url) for _, url in scan.assets]
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        if urllib.parse.urlsplit(url)[:2] != origin:
            third_party += 1
            problems.append(f"third-party request {url}")
            continue
        asset = fetch(url, language)
        fetched.append(f"{url.rsplit('/', 1)[-1]} {asset.wire_bytes} B")
        total += asset.wire_bytes
        if asset.status != 200:
            problems.append(f"{url}: status {asset.status}")
        if asset.content_type == "text/css":
            css = asset.body.decode("utf-8", errors="replace")
            # A fragment-only url(#...) (old IE behaviours in Leaflet's CSS) is no request.
            refs = [r for r in css_references(css) if not r.startswith(("#", "data:"))]
            queue += [urllib.parse.urljoin(url, ref) for ref in refs]

    for url in seen:
        if FONT_FILE.search(url):
            problems.append(f"font file {url}: fonts come from the phone")
    works, reasons = works_without_js(scan, language)
    for href in scan.main_links:
        target = urllib.parse.urljoin(page.url, href)
        if urllib.parse.urlsplit(target)[:2] == origin and target not in seen:
            seen.add(target)
            if fetch(target, language).status >= 400:
                works = False
                reasons.append(f"broken link {href}")
    return {
        "kb": round(total / 1024, 2),
        "assets": fetched,
        "html_bytes": page.wire_bytes,
        "works_without_js": works,
        "reasons": reasons,
        "problems": problems,
        "third_party": third_party,
        "main_text": scan.main_text,
    }


def works_without_js(scan: PageScan, language: str) -> tuple[bool, list[str]]:
    reasons = []
    if scan.inline_scripts:
        reasons.append(f"{scan.inline_scripts} inline <script>")
    for attrs in scan.scripts:
        src = attrs.get("src", "")
        deferred = "defer" in attrs or "async" in attrs or attrs.get("type") == "module"
        if src and (not deferred or "//" in src):
            reasons.append(f"<script src={src!r}> is blocking or not same-origin")
    if scan.noscript:
        reasons.append("<noscript> present")
    if scan.inline_styles:
        reasons.append(f"{scan.inline_styles} inline styles (CSP style-src 'self' blocks them)")
    # Counted in UTF-8 bytes, not characters: a Chinese or Korean page says as much in a third
    # of the characters (each is three bytes).
    if len(scan.main_text.encode()) < 200:
        reasons.append("main text missing from the server HTML")
    if not scan.main_links and not scan.main_forms:
        reasons.append("no links or forms in <main>")
    if not scan.html_lang.lower().startswith(language):
        reasons.append(f"html lang is {scan.html_lang!r}, asked for {language!r}")
    text = scan.main_text.lower() + " " + " ".join(scan.main_links).lower()
    if language in MARKERS and not any(marker in text for marker in MARKERS[language]):
        reasons.append(f"none of {MARKERS[language]!r} in the page: wrong language?")
    return not reasons, reasons


def page_paths(quick: bool) -> list[str]:
    import django
    from django.urls import reverse

    django.setup()
    return [reverse(name, args=args) for name, args in (QUICK_PAGES if quick else PAGES)]


def run(quick: bool = False) -> dict:
    from bench._server import running_server

    figures: dict = {"kb": {}}
    untranslated: list[str] = []
    failures: list[str] = []
    third_party = 0
    all_work = True
    # A hotline number makes the pages slightly heavier, as on a real network.
    with running_server(extra_env={"DEFENSA_HOTLINE_NUMBER": "(213) 555-0100"}) as server:
        # URL names are resolved by the project itself, set up like the server.
        for key in ("DJANGO_SETTINGS_MODULE", "DEFENSA_DATA_DIR"):
            os.environ[key] = server.env[key]
        os.environ.pop("DATABASE_URL", None)
        for path in page_paths(quick):
            english = ""
            for language in LANGUAGES:
                weighed = weigh_page(server.url, path, language)
                key = f"{language} {path}"
                figures["kb"][key] = weighed["kb"]
                if language == "en":
                    english = weighed["main_text"]
                elif weighed["main_text"] == english:
                    untranslated.append(key)
                third_party += weighed["third_party"]
                all_work &= weighed["works_without_js"]
                failures += [f"{key}: {p}" for p in weighed["problems"] + weighed["reasons"]]
                progress(
                    f"{key}: {weighed['kb']} KB = HTML {weighed['html_bytes']} B + "
                    f"{', '.join(weighed['assets'])}; "
                    f"works without JS: {weighed['works_without_js']}"
                )
    # With an operator's tile server configured the report form also loads Leaflet, its
    # stylesheet (and the images that stylesheet names) and the pin script; the tiles come
    # from the tile server as the person pans, so they are not counted. Recorded, no target.
    figures["with_tiles_kb"] = {}
    tiles = {
        "DEFENSA_HOTLINE_NUMBER": "(213) 555-0100",
        "DEFENSA_MAP_TILE_URL": "https://tiles.example.org/{z}/{x}/{y}.png",
        "DEFENSA_MAP_TILE_ATTRIBUTION": "© OpenStreetMap contributors",
    }
    with running_server(extra_env=tiles) as server:
        path = page_paths(quick=True)[2]  # reports:new
        for language in ("en", "es"):  # the map's weight does not depend on the language
            weighed = weigh_page(server.url, path, language)
            key = f"{language} {path}"
            figures["with_tiles_kb"][key] = weighed["kb"]
            third_party += weighed["third_party"]
            all_work &= weighed["works_without_js"]
            failures += [f"{key} (tiles): {p}" for p in weighed["problems"] + weighed["reasons"]]
            progress(
                f"{key} with tiles: {weighed['kb']} KB = HTML {weighed['html_bytes']} B + "
                f"{', '.join(weighed['assets'])}"
            )
    for failure in failures:
        progress(f"problem: {failure}")
    figures["max_kb"] = max(figures["kb"].values())
    figures["max_kb_by_language"] = {
        language: max(kb for key, kb in figures["kb"].items() if key.split(" ")[0] == language)
        for language in LANGUAGES
    }
    figures["untranslated"] = len(untranslated)
    if untranslated:
        progress(f"untranslated (reads as English): {', '.join(untranslated)}")
    figures["load_average"] = round(os.getloadavg()[0], 2)
    figures["works_without_js"] = all_work
    figures["third_party_requests"] = third_party
    figures["problems"] = len(failures)
    targets = {
        "max_kb": f"<= {TARGET_KB:g}",
        "works_without_js": True,
        "third_party_requests": 0,
        "problems": 0,
    }
    ok = figures["max_kb"] <= TARGET_KB and all_work and third_party == 0 and not failures
    return result("page_weight", figures, targets, ok)
