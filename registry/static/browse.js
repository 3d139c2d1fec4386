// Filters the skill list as you type. The list is filtered on the server too
// (?q=), so the page works without this file; it only saves the round trip.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("skills");
  if (!input || !list) return;
  var items = Array.prototype.slice.call(list.querySelectorAll("li[data-search]"));
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");
  function apply() {
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (li) {
      var text = li.getAttribute("data-search") || "";
      var ok = terms.every(function (t) { return text.indexOf(t) !== -1; });
      li.hidden = !ok;
      if (ok) shown += 1;
    });
    if (count) count.textContent = String(shown);
    if (empty) empty.hidden = shown !== 0;
  }
  input.addEventListener("input", apply);
  apply();
})();
