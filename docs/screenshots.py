"""Screenshots of the built book with headless Chromium, offline, for a developer to look at.

    make -C docs html && python docs/screenshots.py        # -> docs/_build/screenshots/*.png

Chromium (Debian's ``chromium`` package) opens each page from the file system with every
host name unresolvable (``--host-resolver-rules``), so nothing comes from the network:
if the math is typeset, it was typeset by the bundled MathJax. For each page the script also
prints, from the rendered DOM, how many formulas MathJax typeset, how many images the
page holds and how many code blocks were highlighted, and fails if a page has none of
what it should have. Then look at the PNGs: figures present, math typeset, the
navigation in the left sidebar, code in colour.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
HTML = DOCS / "_build" / "html"
PAGES = {  # page -> (must have math, must have images)
    "index.html": (False, True),
    "lessons/01_what_is_an_autoencoder.html": (True, True),
    "lessons/05_backprop_by_hand.html": (True, True),
    "lessons/19_convolution.html": (True, True),
    "keras.html": (False, True),
    "reference/api.html": (False, False),
}
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("headless Chromium is needed: apt-get install -y chromium")


def run(browser, *args):
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               OFFLINE, "--virtual-time-budget=15000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def split(tall, height):
    """Cut a tall screenshot into pieces ``height`` pixels high; drop blank ones at the end."""
    import matplotlib.image as mpimg

    pixels = mpimg.imread(tall)
    pieces = []
    for i, top in enumerate(range(0, len(pixels), height), 1):
        piece = pixels[top:top + height]
        if piece.min() >= 0.99:  # nothing but white: past the end of the page
            break
        path = tall.with_name(tall.stem.replace("_full", f"_{i}") + ".png")
        mpimg.imsave(path, piece)
        pieces.append(path)
    tall.unlink()
    return pieces


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(DOCS / "_build" / "screenshots"))
    parser.add_argument("--height", type=int, default=2400, help="viewport height in pixels")
    parser.add_argument("--full-height", type=int, default=16000,
                        help="height of the whole-page shot of a lesson, cut into pieces")
    args = parser.parse_args()
    if not (HTML / "index.html").exists():
        sys.exit(f"no book in {HTML}: build it first with make -C docs html")
    browser, out, problems = chromium(), Path(args.out), []
    out.mkdir(parents=True, exist_ok=True)
    for page, (needs_math, needs_images) in PAGES.items():
        url = (HTML / page).as_uri()
        dom = run(browser, "--dump-dom", url).stdout
        math = len(re.findall(r"<mjx-container", dom))
        raw_tex = len(re.findall(r"\\\(|\\\[", dom))   # TeX left untypeset
        images = len(re.findall(r"<img\b", dom))
        highlighted = len(re.findall(r'class="highlight-(?:python|ipython3|bash)', dom))
        png = out / (page.replace("/", "_").replace(".html", ".png"))
        run(browser, f"--window-size=1280,{args.height}", f"--screenshot={png}", url)
        print(f"{page:45s} formulas typeset {math:4d}  untypeset {raw_tex:3d}  images "
              f"{images:3d}  highlighted code blocks {highlighted:3d}  -> {png}")
        if page.startswith("lessons/"):  # the whole page, in screen-sized pieces
            tall = png.with_name(png.stem + "_full.png")
            run(browser, f"--window-size=1280,{args.full_height}", f"--screenshot={tall}", url)
            pieces = split(tall, args.height)
            print(f"{'':45s} the whole page in {len(pieces)} pieces: {pieces[0].name} ...")
        if needs_math and (math == 0 or raw_tex):
            problems.append(f"{page}: math not typeset ({math} typeset, {raw_tex} left as TeX)")
        if needs_images and images == 0:
            problems.append(f"{page}: no images")
        if not png.exists():
            problems.append(f"{page}: no screenshot written")
    if problems:
        sys.exit("\n".join(problems))


if __name__ == "__main__":
    main()
