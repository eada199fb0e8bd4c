"""What browser tests check on every page: accessibility (axe-core), fit at 360 px, and words
kept whole (no text broken inside a word) with a short phone header."""
from __future__ import annotations

import glob
import json
import os
import re
import time

import pyotp
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import CARDHOLDER_PASSWORD, STAFF_PASSWORD

BLOCKING_IMPACTS = ("serious", "critical")
HEADER_LIMIT = 120  # px: the most a page header may take at 390 px wide (issue 13)
_axe = Axe()

_OVERFLOW_JS = """() => {
  const root = document.documentElement;
  const limit = root.clientWidth + 1;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > limit) {
      const cls = el.className && typeof el.className === 'string'
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls
                + ' (right edge ' + Math.round(box.right) + ')');
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide: wide.slice(0, 10)};
}"""


# Each Latin word (a run of letters or digits) must sit on one line (its Range has rects on one
# line only); a piece of Chinese text of three or more characters must never wrap with at most
# two characters on each full line in a column squeezed to less than five characters wide.
_BROKEN_WORDS_JS = """() => {
  const problems = [];
  const latin = /[A-Za-z\\u00C0-\\u024F0-9]{2,}/g;
  const cjk = /[\\u3400-\\u9fff\\uf900-\\ufaff]/;
  const skip = 'script,style,noscript,option,select,textarea,template,.visually-hidden,[hidden]';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const where = el => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const lineTops = rects => {
    const tops = [];
    for (const q of rects) {
      if (q.width <= 0) continue;
      if (!tops.some(t => Math.abs(t - q.top) < q.height / 2)) tops.push(q.top);
    }
    return tops;
  };
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement;
    if (!el || el.closest(skip)) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || getComputedStyle(el).visibility === 'hidden') continue;
    const text = node.data;
    for (const m of text.matchAll(latin)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      if (lineTops(range.getClientRects()).length > 1) {
        problems.push('"' + m[0] + '" broken inside ' + where(el));
      }
    }
    const perLine = [];
    for (let i = 0; i < text.length; i++) {
      if (!cjk.test(text[i])) continue;
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const q = range.getClientRects()[0];
      if (!q) continue;
      const line = perLine.find(l => Math.abs(l.top - q.top) < q.height / 2);
      if (line) line.count += 1; else perLine.push({top: q.top, count: 1});
    }
    const total = perLine.reduce((n, l) => n + l.count, 0);
    let block = el;
    while (block.parentElement && getComputedStyle(block).display.startsWith('inline')) {
      block = block.parentElement;
    }
    const fontSize = parseFloat(getComputedStyle(el).fontSize);
    const squeezed = block.clientWidth < 5 * fontSize;  // a column a few characters wide
    if (squeezed && total >= 3 && perLine.length > 1
        && Math.max(...perLine.slice(0, -1).map(l => l.count)) <= 2) {
      problems.push('"' + text.trim() + '" stacked ' + perLine.map(l => l.count).join('/')
                    + ' characters a line in ' + where(el));
    }
  }
  return problems;
}"""


def word_break_problems(page, widths) -> list[str]:
    """Words broken on the current page at each of `widths` (the viewport's height is kept and
    its width restored afterwards), and at 390 px a header taller than HEADER_LIMIT. Every
    <details> is opened first so that what it hides is measured too."""
    page.wait_for_load_state("load")
    path = path_of(page)
    problems = []
    original = page.viewport_size
    for width in widths:
        page.set_viewport_size({"width": width, "height": original["height"]})
        page.wait_for_function("w => document.documentElement.clientWidth <= w", arg=width)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        problems += [f"{path} at {width}px: {p}" for p in page.evaluate(_BROKEN_WORDS_JS)]
        if width == 390 and page.locator(".site-header").count():
            height = page.evaluate(
                "() => document.querySelector('.site-header').getBoundingClientRect().height")
            if height > HEADER_LIMIT:
                problems.append(f"{path} at 390px: header {height:.0f}px high")
    page.set_viewport_size(original)
    return problems


def axe_check(page) -> None:
    """Fail when axe-core finds a serious or critical violation on the current page."""
    results = _axe.run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe-core: {len(blocking)} serious/critical violation(s) on {page.url}"]
        for v in blocking:
            targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"])
            lines.append(f"  {v['id']} [{v['impact']}] {v['help']} -> {targets}")
        raise AssertionError("\n".join(lines))


def assert_no_horizontal_scroll(page, width: int = 360) -> None:
    """Fail when the current page scrolls sideways at `width` CSS pixels (the narrowest phone
    we support); the page's own viewport is restored afterwards."""
    original = page.viewport_size
    page.set_viewport_size({"width": width, "height": original["height"] if original else 740})
    try:
        page.wait_for_function("w => document.documentElement.clientWidth <= w", arg=width)
        found = page.evaluate(_OVERFLOW_JS)
    finally:
        if original:
            page.set_viewport_size(original)
    assert found["scrollWidth"] <= found["clientWidth"] + 1, (
        f"{page.url} scrolls sideways at {width}px: scrollWidth {found['scrollWidth']} > "
        f"clientWidth {found['clientWidth']}; too wide: {found['wide']}"
    )


def check_page(page) -> None:
    """Everything every visited page must pass, once the page has finished loading (axe run
    on a document still being replaced by a navigation finds no document at all)."""
    page.wait_for_load_state("load")
    axe_check(page)
    assert_no_horizontal_scroll(page)


def submit(page, field_id: str) -> None:
    """Press the submit button of the form holding #field_id and wait for the next page."""
    form = page.locator("form", has=page.locator(f"#{field_id}"))
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()


def read_code(outbox_dir: str, to: str, timeout: float = 5.0) -> str:
    """The newest 6-digit code texted to `to`, read from the outbox's SMS files."""
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(glob.glob(os.path.join(outbox_dir, "*.json")), reverse=True):
            with open(path, encoding="utf-8") as fh:
                message = json.load(fh)
            match = re.search(r"(?<!\d)(\d{6})(?!\d)", message["body"])
            if message["to"] == to and match:
                return match.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no 6-digit code texted to {to} in {outbox_dir}")
        time.sleep(0.1)


def path_of_url(url: str) -> str:
    """A URL's path, without origin or query."""
    return re.sub(r"^https?://[^/]+", "", url).split("?")[0]


def path_of(page) -> str:
    """The current page's path, without origin or query."""
    return path_of_url(page.url)


def expect_path(page, expected: str) -> None:
    """Assert the browser reaches `expected` (a click on a link navigates without the test
    waiting for it); when not, say what the page told the user."""
    try:
        page.wait_for_url(lambda url: path_of_url(url) == expected, timeout=5_000)
    except PlaywrightTimeoutError:
        pass
    page.wait_for_load_state("load")
    actual = path_of(page)
    if actual != expected:
        said = page.locator(".error-summary, .error-message, .flash, h1").all_inner_texts()
        raise AssertionError(f"expected {expected}, on {actual}; the page says: {said}")


def sign_in_cardholder(page, phone: str, password: str | None = None) -> None:
    """Sign in through the form with a phone number and land on the dashboard."""
    page.goto("/login")
    page.fill("#identity", phone)
    page.fill("#password", password or CARDHOLDER_PASSWORD)
    submit(page, "identity")
    expect_path(page, "/home")


def sign_in_staff(page, staff) -> None:
    """Sign a staff member in through the form with their password and a TOTP code."""
    page.goto("/staff/login")
    page.fill("#email", staff.email)
    page.fill("#password", STAFF_PASSWORD)
    submit(page, "email")
    page.fill("#code", pyotp.TOTP(staff.totp_secret).now())
    submit(page, "code")
    assert "/login" not in path_of(page), page.url
