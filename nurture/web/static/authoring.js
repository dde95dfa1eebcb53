// The file editor, enhanced: line numbers follow the text, the text is checked as one
// types (the same messages as the Check button) and the lines with problems are marked.
// Without this file the page still works: Check and Save submit the form.
"use strict";
(function () {
  const form = document.querySelector("form.editor-form[data-check-url]");
  if (!form) return;
  const checkUrl = form.getAttribute("data-check-url");
  const token = form.querySelector("input[name=csrf_token]");
  const areas = Array.from(form.querySelectorAll(".editor textarea"));
  const status = form.querySelector(".problems-status");
  const list = form.querySelector(".problem-list");
  let bad = {};  // file name -> Set of line numbers
  let timer = null;
  let sequence = 0;
  let failures = 0;

  // The page's language: the sentences come translated in data-text-* attributes.
  function text(name) {
    return form.getAttribute("data-text-" + name) || "";
  }

  function fileOf(area) {
    return area.closest(".editor-file").getAttribute("data-file");
  }

  function lineCount(text) {
    const count = text.split("\n").length;
    return text.endsWith("\n") ? count - 1 : count;
  }

  function drawGutter(area) {
    const gutter = area.parentElement.querySelector(".gutter");
    const lines = Math.max(1, lineCount(area.value));
    const marked = bad[fileOf(area)] || new Set();
    gutter.textContent = "";
    for (let n = 1; n <= lines; n += 1) {
      const span = document.createElement("span");
      span.textContent = String(n);
      if (marked.has(n)) span.className = "bad";
      gutter.appendChild(span);
      gutter.appendChild(document.createTextNode("\n"));
    }
    area.rows = lines + 1;
  }

  function goTo(area, line) {
    const lines = area.value.split("\n");
    let start = 0;
    for (let n = 1; n < line && n <= lines.length; n += 1) start += lines[n - 1].length + 1;
    const end = start + (lines[line - 1] || "").length;
    area.focus();
    area.setSelectionRange(start, end);
  }

  function show(result) {
    bad = {};
    list.textContent = "";
    result.problems.forEach((problem) => {
      (bad[problem.file] = bad[problem.file] || new Set()).add(problem.line);
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.className = "goto";
      link.href = "#";
      link.setAttribute("data-file", problem.file);
      link.setAttribute("data-line", String(problem.line));
      link.textContent = text("where").replace("{file}", problem.file).replace("{line}", String(problem.line));
      item.appendChild(link);
      item.appendChild(document.createTextNode(": " + problem.message));
      list.appendChild(item);
    });
    status.textContent = "";
    const span = document.createElement("span");
    if (result.ok) {
      span.className = "ok";
      span.textContent = "✓ " + text("ok");
    } else {
      span.className = "error";
      span.textContent = "✗ " + text(result.count === 1 ? "bad-one" : "bad-many").replace("{num}", String(result.count));
    }
    status.appendChild(span);
    areas.forEach(drawGutter);
  }

  function check() {
    const body = new FormData(form);
    body.delete("action");
    const mine = (sequence += 1);
    fetch(checkUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "Accept": "application/json" },
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((result) => {
        if (mine !== sequence) return;
        if (result) {
          failures = 0;
          show(result);
        } else {
          retry();
        }
      })
      .catch(() => {
        if (mine === sequence) retry();
      });
  }

  // A check that failed (a busy or restarting server, a dropped connection) is tried
  // again a few times, so the problems shown never stay those of an older text.
  function retry() {
    failures += 1;
    if (failures > 5) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 1000 * failures);
  }

  areas.forEach((area) => {
    drawGutter(area);
    if (area.readOnly) return;
    area.addEventListener("input", () => {
      drawGutter(area);
      failures = 0;
      window.clearTimeout(timer);
      timer = window.setTimeout(check, 400);
    });
  });

  list.addEventListener("click", (event) => {
    const link = event.target.closest("a.goto");
    if (!link) return;
    event.preventDefault();
    const file = link.getAttribute("data-file");
    const area = areas.find((candidate) => fileOf(candidate) === file) || areas[0];
    goTo(area, Number(link.getAttribute("data-line")) || 1);
  });

  // Start from the server's verdict: mark the lines it reported.
  list.querySelectorAll("a.goto").forEach((link) => {
    const file = link.getAttribute("data-file");
    (bad[file] = bad[file] || new Set()).add(Number(link.getAttribute("data-line")));
  });
  areas.forEach(drawGutter);
})();
