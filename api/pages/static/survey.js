// Skip logic at once, where JavaScript runs: a question whose condition does not hold is hidden and its inputs
// disabled (so they are not sent). The server applies the same rule (surveys/answers.py is_shown) without it.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form) return;
  document.documentElement.classList.add("js");
  var questions = Array.prototype.slice.call(form.querySelectorAll("fieldset.q"));

  function answerOf(fieldset) {
    var inputs = fieldset.querySelectorAll("input[name^='a.'], textarea");
    var chosen = [];
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.disabled) continue;
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) continue;
      if (input.value.trim() === "") continue;
      chosen.push(/^-?\d+$/.test(input.value) && input.type === "radio" ? Number(input.value) : input.value);
    }
    if (chosen.length === 0) return null;
    return fieldset.querySelector("input[type=checkbox]") ? chosen : chosen[0];
  }

  function shown(rule, answers) {
    if (!rule) return true;
    var answer = answers[rule.question];
    if (answer === undefined || answer === null) return false;
    var chosen = Array.isArray(answer) ? answer : [answer];
    if (rule.equals !== undefined && rule.equals !== null) return chosen.indexOf(rule.equals) >= 0;
    if (rule["in"]) return chosen.some(function (v) { return rule["in"].indexOf(v) >= 0; });
    if (rule.less_than !== undefined && rule.less_than !== null) return typeof answer === "number" && answer < rule.less_than;
    return false;
  }

  function apply() {
    var answers = {};
    questions.forEach(function (fieldset) {
      var rule = fieldset.dataset.showIf ? JSON.parse(fieldset.dataset.showIf) : null;
      var visible = shown(rule, answers);
      fieldset.classList.toggle("hidden-by-skip", !visible);
      fieldset.querySelectorAll("input, textarea").forEach(function (input) { input.disabled = !visible; });
      if (visible) {
        var answer = answerOf(fieldset);
        if (answer !== null) answers[fieldset.id.slice(2)] = answer;
      }
    });
  }

  form.addEventListener("change", apply);
  apply();
})();
