"""Open every page of the built book in a real browser, offline, and check what a reader sees.

    python docs/check_pages.py                      # docs/_build/html, as make -C docs check
    python docs/check_pages.py SITE --screenshots DIR --page lessons/05_backprop_by_hand.html

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by Selenium 4)
opens each page from ``file://`` at a 1280 x 900 window with every http(s) and ws(s) URL
blocked, and checks:

* **network**: no request leaves ``file://`` (the performance log lists every request);
* **image**: every image loaded (``naturalWidth > 0``);
* **math**: MathJax typeset every formula: each ``.math`` element holds a MathJax
  rendering, none is a MathJax error, and no raw ``$...$``, ``\\(``, ``\\[`` or TeX
  command (``\\frac``, ``\\sum``, ...) is left in the text outside code;
* **overflow**: nothing is wider than the text column, and no code block, output,
  equation or table scrolls sideways;
* **column**: the text column is at least 880 px wide (the book's layout constant);
* **console**: no error in the browser console.

It prints each problem with its page, a summary per kind, saves screenshots of five pages
(``docs/_build/screenshots/``), and exits with 1 when anything failed, 2 when the
browser could not be started. Chromium as root needs ``--no-sandbox``; the other flags
keep it from reaching for the network (updates, sync, first-run pages), which would
otherwise stall it on a closed network.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
WINDOW = (1280, 900)
MIN_COLUMN = 880  # px, the text column at a 1280 px window (the book's layout constant)
KINDS = ("network", "image", "math", "overflow", "column", "console", "load")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "chrome-extension:",
                 "devtools:")
SKIPPED = ("search.html", "genindex.html", "py-modindex.html")
# Five pages people look at: a lesson, the densest math, an exercise, a guide, the API.
# A "#fragment" starts the picture at that section (at the top when it is not found).
SCREENSHOT_PAGES = ("lessons/01_*.html", "lessons/18_*.html#batchnorm-s-backward-pass-step-by-step",
                    "exercises/ex10_*.html", "pytorch.html", "reference/*normalization*.html")
SCREENSHOT_HEIGHT = 2400  # px: the top of each page, where its layout shows


def find_binary(*names):
    for name in names:
        path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists()
                                      else None)
        if path:
            return path
    return None


@contextmanager
def browser():
    """A headless Chromium with the network blocked; the user-data folder is removed after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = find_binary("chromium", "chromium-browser", "google-chrome")
    driver_path = find_binary("chromedriver")
    if not chromium or not driver_path:
        raise RuntimeError("the browser check needs chromium and chromedriver: "
                           "apt-get install chromium chromium-driver")
    profile = tempfile.mkdtemp(prefix="tinyae-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--no-default-browser-check",
                 "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setBlockedURLs",
                               {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# Runs in the page once it has loaded: waits for every image and for MathJax, then
# measures. Returns {"problems": [[kind, detail], ...], "column": px}.
MEASURE = (HERE / "check_pages.js").read_text(encoding="utf-8")


def _requests_off_file(driver):
    """URLs the page asked for that are not local (from the performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(LOCAL_SCHEMES):
                urls.append(url)
    return urls


def check_page(driver, url):
    """``([(kind, detail)], column px)`` for one page."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get_log("performance")
    try:
        driver.get(url)
        result = driver.execute_async_script(MEASURE, MIN_COLUMN)
    except Exception as error:  # a page that cannot be opened or measured is a failure
        return [("load", f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")], 0
    problems = [tuple(problem) for problem in result["problems"]]
    for request in _requests_off_file(driver):
        problems.append(("network", f"a request leaves file://: {request[:120]}"))
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            problems.append(("console", entry.get("message", "")[:200]))
    return problems, result["column"]


def screenshot(driver, url, path, height=SCREENSHOT_HEIGHT):
    """The top of a page, 1280 px wide, at most ``height`` px tall, as a PNG."""
    import base64

    url, _, fragment = url.partition("#")  # scrolled to by hand: a :target is highlighted
    driver.get(url)
    driver.execute_async_script(
        "const done = arguments[0];"
        "(window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve())"
        ".then(() => done(), () => done());")
    top = driver.execute_script(
        "const el = arguments[0] && document.getElementById(arguments[0]);"
        "return el ? Math.max(0, el.getBoundingClientRect().top + scrollY - 70) : 0;", fragment)
    full = driver.execute_script("return document.documentElement.scrollHeight") - top
    # a window as tall as the picture, so that the sticky sidebars are drawn all the way
    metrics = {"width": WINDOW[0], "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {**metrics, "height": min(full, height)})
    try:
        driver.execute_script(f"window.scrollTo(0, {top})")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {**metrics, "height": WINDOW[1]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def site_pages(html_dir):
    html_dir = Path(html_dir)
    return [page for page in sorted(html_dir.rglob("*.html"))
            if not page.relative_to(html_dir).as_posix().startswith(("_", "."))
            and page.relative_to(html_dir).as_posix() not in SKIPPED]


def check_site(html_dir, pages=None, screenshots=None, screenshot_pages=SCREENSHOT_PAGES,
               log=print):
    """Check pages of a built site; ``{page: ([(kind, detail)], column)}``."""
    html_dir = Path(html_dir).resolve()
    if not (html_dir / "index.html").exists() and not pages:
        raise FileNotFoundError(f"{html_dir} holds no built site: make -C docs html first")
    chosen = [html_dir / page for page in pages] if pages else site_pages(html_dir)
    results = {}
    with browser() as driver:
        for path in chosen:
            relative = path.relative_to(html_dir).as_posix()
            results[relative] = check_page(driver, path.as_uri())
            problems, column = results[relative]
            log(f"{'FAIL' if problems else 'ok  '} {relative} (column {column} px)")
            for kind, detail in problems:
                log(f"     {kind}: {detail}")
        if screenshots:
            for pattern in screenshot_pages:
                pattern, _, fragment = pattern.partition("#")
                found = sorted(html_dir.glob(pattern))
                if not found:
                    log(f"no page matches {pattern} for a screenshot")
                    continue
                out = Path(screenshots) / (found[0].relative_to(html_dir).as_posix()
                                           .replace("/", "__").replace(".html", ".png"))
                url = found[0].as_uri() + (f"#{fragment}" if fragment else "")
                screenshot(driver, url, out)
                log(f"screenshot {out}")
    return results


def summarize(results):
    counts = {kind: 0 for kind in KINDS}
    for problems, _ in results.values():
        for kind, _ in problems:
            counts[kind] = counts.get(kind, 0) + 1
    failed = sum(1 for problems, _ in results.values() if problems)
    listed = ", ".join(f"{kind} {n}" for kind, n in counts.items())
    return f"{len(results)} pages checked, {failed} failed; problems by kind: {listed}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", default=str(HERE / "_build" / "html"),
                        help="the built HTML (default: docs/_build/html)")
    parser.add_argument("--page", action="append", default=[],
                        help="check only this page (relative to the site); repeatable")
    parser.add_argument("--screenshots", default=str(HERE / "_build" / "screenshots"),
                        help="where to save the five screenshots ('' for none)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        results = check_site(args.site, pages=args.page or None,
                             screenshots=args.screenshots or None)
    except (RuntimeError, FileNotFoundError) as error:
        print(f"check_pages: {error}", file=sys.stderr)
        return 2
    print(f"{summarize(results)} ({time.monotonic() - start:.0f} s)")
    return 1 if any(problems for problems, _ in results.values()) else 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
