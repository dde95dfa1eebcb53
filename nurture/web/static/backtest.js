// The backtest page's progress bar follows a run in the background without reloading;
// without this file the page refreshes itself (a <noscript> refresh) and has a Refresh
// link. Once the run ends, the page reloads for its results.
"use strict";
(function () {
  const box = document.querySelector("[data-backtest-status]");
  if (!box) return;
  const url = box.getAttribute("data-backtest-status");
  const bar = document.getElementById("backtest-progress");
  const text = document.getElementById("backtest-progress-text");
  const refresh = box.querySelector(".no-js-refresh");
  if (refresh) refresh.hidden = true;

  function show(state) {
    if (bar && state.percent !== null) {
      bar.value = state.percent;
      bar.textContent = state.percent + " %";
    }
    if (text && text.textContent !== state.text) text.textContent = state.text;
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
