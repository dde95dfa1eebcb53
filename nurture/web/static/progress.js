// A job's progress bar (an import, a backtest) follows the job without reloading; without
// this file the page's Refresh link does the same. Once the job ends, the page reloads for
// its results. The box names its JSON status: {open, percent, text, counts?}.
"use strict";
(function () {
  const box = document.querySelector("[data-progress-status]");
  if (!box) return;
  const url = box.getAttribute("data-progress-status");
  const bar = box.querySelector("progress");
  const text = box.querySelector("[role=status]");
  const refresh = box.querySelector(".no-js-refresh");
  if (refresh) refresh.hidden = true;

  function show(state) {
    if (bar) {
      if (state.percent === null) bar.removeAttribute("value");
      else { bar.value = state.percent; bar.textContent = state.percent + " %"; }
    }
    if (text && text.textContent !== state.text) text.textContent = state.text;
    Object.keys(state.counts || {}).forEach(function (key) {
      const cell = document.querySelector('[data-progress-count="' + key + '"]');
      if (cell) cell.textContent = state.counts[key].toLocaleString(document.documentElement.lang);
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.open) window.setTimeout(poll, 1000);
        else window.location.reload();
      })
      .catch(function () {
        // The server may be restarting: show the link and try again a little later.
        if (refresh) refresh.hidden = false;
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 500);
})();
