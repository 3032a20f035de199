// The console's reports (console/reports.html): while a report is queued or being made, ask for its state every
// two seconds and show the step; once one is made (or has failed), load the page again for its download link.
// Without JavaScript the page says so and offers a Refresh link.
(function () {
  "use strict";
  var rows = Array.prototype.filter.call(document.querySelectorAll("tr[data-status-url]"), function (row) {
    var state = row.getAttribute("data-state");
    return state === "queued" || state === "running";
  });
  if (!rows.length || !window.fetch) return;

  function show(row, state) {
    var bar = row.querySelector("progress");
    var step = row.querySelector(".report-step");
    var label = row.querySelector(".report-state");
    if (bar) { bar.max = state.total; bar.value = state.progress; }
    if (step) {
      step.textContent = row.getAttribute("data-step")
        .replace("{done}", state.progress).replace("{total}", state.total);
    }
    if (label && state.status === "running") {
      label.textContent = row.getAttribute("data-running");
      label.className = "report-state state-running";
    }
  }

  function poll() {
    Promise.all(rows.map(function (row) {
      return fetch(row.getAttribute("data-status-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (state) {
          if (!state) return false;
          show(row, state);
          return state.status === "done" || state.status === "failed";
        });
    })).then(function (finished) {
      if (finished.some(Boolean)) window.location.reload();
      else window.setTimeout(poll, 2000);
    }, function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
