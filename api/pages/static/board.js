// The console's board: every data-refresh seconds, fetch the figures alone (data-part) and swap them in. Without
// JavaScript the page still works: its Refresh link reloads it. A failed fetch keeps the figures shown (their
// "read at" time says how old they are) and tries again at the next turn.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.fetch) { return; }
  var seconds = parseInt(board.getAttribute("data-refresh"), 10) || 45;
  var busy = false;
  function refresh() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(board.getAttribute("data-part"), { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (answer) {
        if (answer.redirected || !answer.ok) { throw new Error("not refreshed: " + answer.status); }
        return answer.text();
      })
      .then(function (html) { board.innerHTML = html; board.setAttribute("data-refreshed", String(Date.now())); })
      .catch(function () { /* keep what is shown; try again next time */ })
      .then(function () { busy = false; });
  }
  window.setInterval(refresh, seconds * 1000);
})();
