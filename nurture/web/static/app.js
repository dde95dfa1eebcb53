// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("submit", (event) => {
  // <form data-confirm="Erase this lead?">: ask before destructive actions.
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener("change", (event) => {
  // <select data-autosubmit>: filters apply as soon as they are chosen.
  const control = event.target;
  if (control.hasAttribute && control.hasAttribute("data-autosubmit") && control.form) {
    control.form.requestSubmit();
  }
});

// A table wider than the screen scrolls inside its box: make that box reachable by keyboard
// (and named after its table's caption) so it can be scrolled with the arrow keys. Boxes that
// already say so in their markup are left as they are.
function markScrollingTables() {
  document.querySelectorAll(".table-wrap:not([tabindex])").forEach((box) => {
    if (box.scrollWidth <= box.clientWidth) return;
    const caption = box.querySelector("caption");
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", caption ? caption.textContent.trim() : document.title);
  });
}
document.addEventListener("DOMContentLoaded", markScrollingTables);
window.addEventListener("resize", markScrollingTables);
