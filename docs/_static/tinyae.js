// tinyae book: a display equation a little wider than the text column is typeset a
// little smaller (down to MIN_SCALE), rather than scrolling sideways. MathJax 3 does not
// break lines; an equation that needs more than that still scrolls inside its own box
// (docs/_static/tinyae.css), and docs/check_pages.py reports it so that it gets split.
(function () {
  const MIN_SCALE = 0.85;
  function fit() {
    for (const eq of document.querySelectorAll('mjx-container[display="true"]')) {
      // MathJax sets its own font-size (matching the text's x-height): scale from that
      if (eq.dataset.tinyaeSize === undefined) eq.dataset.tinyaeSize = eq.style.fontSize || "100%";
      const base = parseFloat(eq.dataset.tinyaeSize);
      eq.style.fontSize = eq.dataset.tinyaeSize;
      const room = eq.parentElement.clientWidth;
      const need = eq.scrollWidth;
      if (need > room && need * MIN_SCALE <= room) {
        eq.style.fontSize = `${Math.floor(base * (room / need) * 10) / 10}%`;
      }
    }
  }
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(fit);
    }
  }
  window.addEventListener("load", whenTypeset);
  window.addEventListener("resize", fit);
})();
