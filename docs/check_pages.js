// Runs in each page of the book, from docs/check_pages.py (Selenium's execute_async_script):
// waits for every image and for MathJax, then measures. Calls back with
// {problems: [[kind, detail], ...], column: the text column's width in px}.
const done = arguments[arguments.length - 1];
const MIN_COLUMN = arguments[0];
(async () => {
  const problems = [];
  const describe = (el) => {
    const cls = (el.getAttribute("class") || "").split(/\s+/).filter(Boolean).slice(0, 2);
    let text = (el.textContent || el.getAttribute("src") || "").replace(/\s+/g, " ").trim();
    const section = el.closest("section[id]");
    return `<${el.tagName.toLowerCase()}${cls.length ? "." + cls.join(".") : ""}>` +
           (section ? ` in #${section.id}` : "") + (text ? ` \u00ab${text.slice(0, 70)}\u00bb` : "");
  };
  const main = document.querySelector("article.bd-article") ||
               document.querySelector('[role="main"]') || document.body;
  const style = getComputedStyle(main);
  const box = main.getBoundingClientRect();
  const left = box.left + parseFloat(style.paddingLeft);
  const right = box.right - parseFloat(style.paddingRight);
  const column = Math.round(right - left);
  // images: lazy ones are made eager, then every image must load
  const images = Array.from(document.images);
  for (const img of images) { if (img.loading === "lazy") img.loading = "eager"; }
  await Promise.all(images.map((img) => img.complete ? null : new Promise((ok) => {
    img.addEventListener("load", ok); img.addEventListener("error", ok);
    setTimeout(ok, 10000);
  })));
  for (const img of images) {
    if (!(img.naturalWidth > 0)) {
      problems.push(["image", `not loaded: ${img.getAttribute("src")}`]);
      continue;
    }
    // shown at its natural size, or the column's width when it is wider (unless the page
    // asks for another size)
    const sized = img.hasAttribute("width") || img.style.width || img.hasAttribute("height");
    const boxed = img.closest("table, .admonition, li, .sd-card, figure.margin, aside");
    const shown = img.getBoundingClientRect().width;
    if (!sized && !boxed && main.contains(img) && shown > 0 &&
        shown < Math.min(img.naturalWidth, column) - 2) {
      problems.push(["image", `shown ${Math.round(shown)} px wide, natural ${img.naturalWidth} px ` +
                     `in a ${column} px column: ${img.getAttribute("src")}`]);
    }
  }
  // math: wait for MathJax to finish typesetting
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { problems.push(["math", `MathJax failed: ${e}`]); }
  }
  for (const el of main.querySelectorAll(".math")) {
    if (!el.querySelector("mjx-container")) problems.push(["math", `not typeset: ${describe(el)}`]);
  }
  // MathJax shows an unknown macro as red text (its noundefined extension), a TeX error
  // as an merror node: look for both in every typeset formula
  if (window.MathJax && MathJax.startup && MathJax.startup.document) {
    for (const item of MathJax.startup.document.math) {
      if (!item.root || !item.root.walkTree) continue;
      item.root.walkTree((node) => {
        if (node.isKind("merror")) {
          problems.push(["math", `TeX error in ${JSON.stringify(item.math.slice(0, 80))}`]);
        } else if (node.isKind("mtext") && node.attributes.get("mathcolor") === "red") {
          problems.push(["math", `unknown macro ${JSON.stringify(node.getText ? node.getText() : "")} ` +
                         `in ${JSON.stringify(item.math.slice(0, 80))}`]);
        }
      });
    }
  }
  for (const err of main.querySelectorAll("mjx-merror, [data-mjx-error]")) {
    const box = err.closest("mjx-container") || err;
    problems.push(["math", `MathJax error ${err.getAttribute("data-mjx-error") || ""}: ` +
                   describe(box.parentElement || box)]);
  }
  const skip = "pre, code, kbd, samp, script, style, mjx-container, .highlight, .cell_output, textarea";
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const rawTeX = /\$[^\s$][^$]*?[^\s\\]\$|\$[^\s$]\$|\\\(|\\\)|\\\[|\\\]|\\(frac|sum|partial|hat|sqrt|mathrm|text|begin|end|cdot|sigma|mu)\b/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(skip)) continue;
    const match = node.textContent.match(rawTeX);
    if (match) problems.push(["math", `raw TeX ${JSON.stringify(match[0])} left in ` +
                               describe(node.parentElement)]);
  }
  // layout: the column, then anything wider than it or scrolling sideways inside it
  if (column < MIN_COLUMN) problems.push(["column", `the text column is ${column} px, under ${MIN_COLUMN} px`]);
  const flagged = new Set();
  const inside = (el) => { for (let p = el.parentElement; p; p = p.parentElement) if (flagged.has(p)) return true; return false; };
  for (const el of main.querySelectorAll("*")) {
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0 || inside(el)) continue;
    // MathJax's copy of each formula for screen readers is drawn off-screen, clipped
    if (el.closest("mjx-assistive-mml")) continue;
    if (getComputedStyle(el).position === "fixed") continue;
    if (rect.right > right + 1 || rect.left < left - 1) {
      flagged.add(el);
      problems.push(["overflow", `${Math.round(rect.width)} px wide, past the ${column} px column: ${describe(el)}`]);
      continue;
    }
    const overflowX = getComputedStyle(el).overflowX;
    if ((overflowX === "auto" || overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1) {
      flagged.add(el);
      problems.push(["overflow", `scrolls sideways (${el.scrollWidth} px in ${el.clientWidth} px): ${describe(el)}`]);
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    problems.push(["overflow", `the page scrolls sideways (${document.documentElement.scrollWidth} px in ${window.innerWidth} px)`]);
  }
  done({problems, column});
})().catch((e) => done({problems: [["load", `the check script failed: ${e}`]], column: 0}));
