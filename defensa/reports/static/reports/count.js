// Characters left, before the limit: an optional extra. Without JavaScript the browser still
// stops at the field's maxlength and the server checks the length. The words come from the
// form's data-left-one / data-left-other (translated, "{n}" is the number).
(function () {
  "use strict";
  var form = document.querySelector("form[data-left-one]");
  if (!form) return;
  var one = form.getAttribute("data-left-one");
  var other = form.getAttribute("data-left-other");
  var fields = form.querySelectorAll("textarea[maxlength], input[type=text][maxlength]");
  Array.prototype.forEach.call(fields, function (field) {
    var max = parseInt(field.getAttribute("maxlength"), 10);
    if (!(max >= 50)) return; // a ZIP code needs no counter
    var long = field.tagName === "TEXTAREA";
    var near = long ? Math.max(50, Math.round(max / 10)) : Math.max(20, Math.round(max / 5));
    var out = document.createElement("p");
    out.className = "help";
    out.id = field.id + "-left";
    field.insertAdjacentElement("afterend", out);
    var update = function () {
      var left = max - field.value.length;
      // A long box counts from the first letter typed; a one-line field near its limit.
      var show = long ? left < max : left <= near;
      out.hidden = !show;
      // Screen readers hear it only when the limit is close, not at every key.
      if (left <= near) out.setAttribute("aria-live", "polite");
      else out.removeAttribute("aria-live");
      out.textContent = (left === 1 ? one : other).replace("{n}", String(left));
    };
    field.addEventListener("input", update);
    update();
  });
})();
