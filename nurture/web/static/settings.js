// The settings area: a copy button beside one-time secrets, and a live preview of the brand
// colour with its contrast. Progressive enhancement only: the pages work without it.
"use strict";
(() => {
  document.querySelectorAll("[data-copy]").forEach((field) => {
    if (!navigator.clipboard) return;
    const copyLabel = field.getAttribute("data-copy") || "Copy";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary copy-button";
    button.textContent = copyLabel;
    button.setAttribute("aria-label", copyLabel + " " + (field.labels && field.labels[0] ? field.labels[0].textContent : ""));
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(field.value).then(() => { button.textContent = "✓ " + copyLabel; });
    });
    field.insertAdjacentElement("afterend", button);
  });
  document.querySelectorAll("[data-copy]").forEach((field) => {
    field.addEventListener("focus", () => field.select());
  });

  function luminance(hex) {
    const channel = (i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  }
  document.querySelectorAll("[data-swatch-for]").forEach((swatch) => {
    const input = document.getElementById(swatch.getAttribute("data-swatch-for"));
    const note = document.querySelector(`[data-contrast-for="${input.id}"]`);
    const line = swatch.parentElement;
    const update = () => {
      let value = input.value.trim();
      if (/^[0-9a-f]{6}$/i.test(value)) value = "#" + value;
      if (!/^#[0-9a-f]{6}$/i.test(value)) { line.hidden = true; return; }
      // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
      swatch.style.backgroundColor = value;
      const ratio = 1.05 / (luminance(value.toLowerCase()) + 0.05);
      note.textContent = ratio.toFixed(1) + ":1 " + (ratio >= 4.5 ? "✓" : "✗");
      line.hidden = false;
    };
    input.addEventListener("input", update);
    update();
  });
})();
