"""bench/page_weight.py's HTML parser finds every asset and every no-JS problem."""

from bench.page_weight import css_references, scan_html, works_without_js

SAMPLE = """<!doctype html><html lang="es"><head>
<link rel="stylesheet" href="/static/a.css"><link rel="icon" href="/static/i.svg">
<link rel="preload" href="/static/font.woff2" as="font"><link rel="alternate" href="/feed">
<script src="/static/app.js" defer></script><script>alert(1)</script>
<style>p{}</style></head><body><main><h1 style="color:red">Hola</h1>
<img src="/static/p.png" srcset="/static/p2.png 2x, /static/p3.png 3x" alt="">
<picture><source srcset="https://cdn.example.com/x.webp"></picture>
<img src="data:image/png;base64,AAAA" alt=""><a href="/rights/">derechos</a>
<form method="post"><input type="image" src="/static/go.png" alt="go"></form>
<noscript>Turn on JavaScript</noscript><script>document.write("hidden")</script>
<p>texto</p></main><footer><a href="/outside/">x</a></footer></body></html>"""


def test_parser_finds_every_asset() -> None:
    scan = scan_html(SAMPLE)
    assert scan.assets == [
        ("link", "/static/a.css"),
        ("icon", "/static/i.svg"),
        ("link", "/static/font.woff2"),
        ("script", "/static/app.js"),
        ("image", "/static/p.png"),
        ("image", "/static/p2.png"),
        ("image", "/static/p3.png"),
        ("image", "https://cdn.example.com/x.webp"),
        ("image", "/static/go.png"),
    ]
    assert scan.html_lang == "es"
    assert scan.inline_scripts == 2
    assert scan.inline_styles == 2
    assert scan.noscript == 1
    assert scan.main_links == ["/rights/"]
    assert scan.main_forms == 1
    assert "hidden" not in scan.main_text  # script text is not page content
    assert scan.main_text.startswith("Hola")


def test_sample_page_does_not_work_without_js_and_says_why() -> None:
    works, reasons = works_without_js(scan_html(SAMPLE), "es")
    assert not works
    joined = " ".join(reasons)
    for why in ("inline <script>", "<noscript>", "inline styles", "main text missing"):
        assert why in joined


def test_a_plain_page_works_without_js() -> None:
    html = (
        '<html lang="en"><main><p>' + "Know your rights. " * 20 + '</p><a href="/rights/">'
        'rights</a><script src="/static/enhance.js" defer></script></main></html>'
    )
    works, reasons = works_without_js(scan_html(html), "en")
    assert works, reasons
    blocking = html.replace(" defer", "")
    assert not works_without_js(scan_html(blocking), "en")[0]
    assert not works_without_js(scan_html(html), "es")[0]  # wrong language


def test_css_references() -> None:
    css = "@import 'b.css';body{background:url(\"/static/bg.png\")}a{b:url(x.svg)}"
    assert css_references(css) == ["b.css", "/static/bg.png", "x.svg"]
