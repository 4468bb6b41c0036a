"""sanitize_html (nh3 allow-list) and html_to_text."""

from __future__ import annotations

import re

import pytest

from workers.feeds.sanitize import ALLOWED_TAGS, html_to_text, sanitize_html

BASE = "https://www.example.go.th/news/2567/item.html"
REL = 'rel="noopener noreferrer nofollow"'


def tags_in(html: str) -> set[str]:
    return {m.lower() for m in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)}


def test_keeps_news_markup() -> None:
    html = (
        "<h2>หัวข้อ</h2><p>ย่อหน้า <strong>ตัวหนา</strong> <em>เอียง</em> <b>b</b> <i>i</i> "
        '<u>u</u><br></p><ul><li>หนึ่ง</li></ul><ol start="3"><li>สาม</li></ol>'
        '<blockquote>คำพูด</blockquote><figure><img src="https://a.go.th/p.jpg" alt="ภาพ" '
        'width="640" height="480"><figcaption>คำบรรยาย</figcaption></figure>'
        '<table><thead><tr><th colspan="2">หัวตาราง</th></tr></thead>'
        "<tbody><tr><td>1</td><td>2</td></tr></tbody></table>"
    )
    assert sanitize_html(html) == html


def test_links_get_rel_and_keep_href_and_title() -> None:
    out = sanitize_html('<a href="https://www.ega.or.th/" title="EGA" target="_blank">EGA</a>')
    assert out == f'<a href="https://www.ega.or.th/" title="EGA" {REL}>EGA</a>'


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<style>body{display:none}</style>",
        '<iframe src="https://evil.example/">frame</iframe>',
        '<object data="x.swf">object</object><embed src="x.swf">',
        "<svg onload=alert(1)><script>alert(2)</script></svg>",
        "<math><mi>x</mi></math>",
        "<noscript>no script</noscript>",
        "<template><p>hidden</p></template>",
        '<form action="https://evil.example/"><textarea>t</textarea></form>',
        "<!-- comment -->",
    ],
)
def test_dangerous_elements_are_removed_with_their_content(html: str) -> None:
    out = sanitize_html("<p>ก่อน</p>" + html + "<p>หลัง</p>")
    assert out == "<p>ก่อน</p><p>หลัง</p>"


@pytest.mark.parametrize(
    "attrs",
    [
        'onclick="steal()"',
        'onerror="alert(1)"',
        'onmouseover="x()"',
        'style="background:url(javascript:alert(1))"',
        'class="evil" id="x"',
        'data-x="1"',
    ],
)
def test_event_handlers_style_class_are_dropped(attrs: str) -> None:
    assert sanitize_html(f"<p {attrs}>ข้อความ</p>") == "<p>ข้อความ</p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "JaVaScRiPt&#58;alert(2)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
    ],
)
def test_unsafe_link_urls_are_removed(href: str) -> None:
    out = sanitize_html(f'<a href="{href}">คลิก</a>', base_url=BASE)
    assert out == f"<a {REL}>คลิก</a>"


@pytest.mark.parametrize(
    "src",
    [
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "mailto:a@example.go.th",
        "",
    ],
)
def test_unsafe_images_are_removed(src: str) -> None:
    assert sanitize_html(f'<p>ภาพ<img src="{src}" alt="x"></p>', base_url=BASE) == "<p>ภาพ</p>"


def test_allowed_schemes() -> None:
    html = (
        '<a href="http://a.go.th/">h</a><a href="https://a.go.th/">s</a>'
        '<a href="mailto:pr@a.go.th">m</a>'
    )
    out = sanitize_html(html)
    assert 'href="http://a.go.th/"' in out
    assert 'href="https://a.go.th/"' in out
    assert 'href="mailto:pr@a.go.th"' in out


def test_relative_urls_resolved_against_base() -> None:
    html = (
        '<a href="/about">a</a><a href="other.html">b</a><a href="//cdn.example.go.th/x">c</a>'
        '<img src="../img/p.jpg" alt="">'
    )
    out = sanitize_html(html, base_url=BASE)
    assert 'href="https://www.example.go.th/about"' in out
    assert 'href="https://www.example.go.th/news/2567/other.html"' in out
    assert 'href="https://cdn.example.go.th/x"' in out
    assert 'src="https://www.example.go.th/news/img/p.jpg"' in out


def test_relative_urls_dropped_without_base() -> None:
    out = sanitize_html('<a href="/about">a</a><img src="p.jpg"><p>x</p>')
    assert out == f"<a {REL}>a</a><p>x</p>"


def test_non_http_base_is_ignored() -> None:
    out = sanitize_html('<a href="/about">a</a>', base_url="javascript:alert(1)//")
    assert out == f"<a {REL}>a</a>"


def test_unknown_tags_are_unwrapped_keeping_text() -> None:
    out = sanitize_html("<article><h1>ชื่อข่าว</h1><font color=red>ข้อความ</font></article>")
    assert out == "ชื่อข่าวข้อความ"


def test_output_only_uses_allowed_tags() -> None:
    from tests.workers.feeds.conftest import fixture_bytes

    feed = fixture_bytes("xss_content.xml").decode("utf-8")
    [summary, content] = re.findall(r"<!\[CDATA\[(.*?)\]\]>", feed, re.DOTALL)
    for hostile in (summary, content):
        out = sanitize_html(hostile, base_url=BASE)
        assert tags_in(out) <= ALLOWED_TAGS
        assert "alert" not in out and "evil.example" not in out and "cookie" not in out
        assert "onerror" not in out and "style" not in out and "iframe" not in out


def test_empty_input() -> None:
    assert sanitize_html("") == ""
    assert sanitize_html("   ") == ""


# -- html_to_text -------------------------------------------------------------------------------


def test_html_to_text_strips_tags_and_unescapes() -> None:
    html = "<p>สวัสดี&nbsp;ครับ</p><p>A &amp; B &lt;tag&gt; &#3585; &#x0E02;</p>"
    assert html_to_text(html) == "สวัสดี ครับ A & B <tag> ก ข"


def test_html_to_text_separates_blocks_and_collapses_whitespace() -> None:
    html = "<h2>หัวข้อ</h2>\n\n<p>บรรทัด<br>ใหม่</p><ul><li>หนึ่ง</li><li>สอง</li></ul>  <b>ตัว</b>หนา"
    assert html_to_text(html) == "หัวข้อ บรรทัด ใหม่ หนึ่ง สอง ตัวหนา"


def test_html_to_text_drops_script_and_style_content() -> None:
    html = "<style>p{}</style>ก<script>alert('x')</script>ข<iframe>f</iframe>ค"
    assert html_to_text(html) == "กขค"


def test_html_to_text_plain_text_and_zero_width_space() -> None:
    assert html_to_text("  ข่าว\u200bด่วน \t\n วันนี้ &amp; ") == "ข่าวด่วน วันนี้ &"
    assert html_to_text("") == ""
    assert html_to_text("ก < ข") == "ก < ข"
