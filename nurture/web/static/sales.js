// The sales pages, progressively enhanced: every form works without this file.
"use strict";
(() => {
  // The outcome form shows "why was it lost?" only for a lost deal once one is chosen.
  const form = document.querySelector(".sales-outcome");
  if (!form) return;
  const update = () => {
    const chosen = form.querySelector('input[name="outcome"]:checked');
    if (chosen) form.setAttribute("data-outcome", chosen.value);
  };
  form.addEventListener("change", update);
  update();
})();
