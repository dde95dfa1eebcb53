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
