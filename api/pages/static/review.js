// The review pages' keyboard shortcuts, where JavaScript runs (every one is also a link, a button or a field):
// v verify (after a confirm), r the send-back reason, j/n the next order, k/p the previous one, ? the list.
// Never while typing in a field, and never with Ctrl, Alt or Meta (the browser's own shortcuts).
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function follow(key) {
    var link = document.querySelector("a[data-key='" + key + "']");
    if (link) window.location.assign(link.href);
    return Boolean(link);
  }

  function verify() {
    var form = document.getElementById("verify-form");
    if (!form) return false;
    if (window.confirm(form.getAttribute("data-confirm") || "")) {
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    }
    return true;
  }

  function reason() {
    var field = document.getElementById("reason");
    if (!field) return false;
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }

  function help() {
    var list = document.getElementById("shortcuts");
    if (!list) return false;
    list.open = true;
    list.scrollIntoView({ block: "nearest" });
    list.querySelector("summary").focus();
    return true;
  }

  var keys = {
    v: verify,
    r: reason,
    j: function () { return follow("next"); },
    n: function () { return follow("next"); },
    k: function () { return follow("previous"); },
    p: function () { return follow("previous"); },
    "?": help
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    if (typing(event.target)) return;
    var act = keys[event.key];
    if (act && act()) event.preventDefault();
  });
})();
