// "Use my location": an optional extra. The form works without it (and without JavaScript);
// the browser is asked for the position only when the person taps the button. The phone's
// accuracy (metres) goes with the position: it is stored as the report's precision.
(function () {
  "use strict";
  var box = document.getElementById("locate");
  if (!box || !navigator.geolocation) return;
  var button = box.querySelector("button");
  var status = box.querySelector("[role=status]");
  var field = function (name) { return document.getElementById("id_" + name); };
  box.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = box.getAttribute("data-waiting");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        var accuracy = Math.max(1, Math.round(pos.coords.accuracy || 0));
        field("lat").value = pos.coords.latitude.toFixed(6);
        field("lon").value = pos.coords.longitude.toFixed(6);
        field("accuracy").value = accuracy;
        if (field("located_by")) field("located_by").value = "gps";
        status.textContent = box.getAttribute("data-done").replace("{m}", accuracy);
        button.disabled = false;
        // The map pin (pin.js), when there is a map, moves to the same place.
        document.dispatchEvent(new CustomEvent("defensa:located", {
          detail: { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: accuracy }
        }));
      },
      function (err) {
        var which = err && err.code === 1 ? "data-denied" : err && err.code === 3 ? "data-timeout" : "data-failed";
        status.textContent = box.getAttribute(which);
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  });
})();
