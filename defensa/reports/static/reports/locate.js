// "Use my location": an optional extra. The form works without it (and without JavaScript);
// the browser is asked for the position only when the person taps the button.
(function () {
  "use strict";
  var box = document.getElementById("locate");
  if (!box || !navigator.geolocation) return;
  var button = box.querySelector("button");
  var status = box.querySelector("[role=status]");
  box.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = box.getAttribute("data-waiting");
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        document.getElementById("id_lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("id_lon").value = pos.coords.longitude.toFixed(6);
        document.getElementById("id_accuracy").value = Math.round(pos.coords.accuracy);
        status.textContent = box.getAttribute("data-done");
      },
      function () {
        status.textContent = box.getAttribute("data-failed");
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  });
})();
