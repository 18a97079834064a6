// The map pin on the report form, only when the operator configured a tile server (the page
// then loads Leaflet first). Tapping the map drops a pin, dragging moves it; the address and
// ZIP fields keep working beside it. The pin's precision is what a fingertip covers at the
// zoom it was placed at, so a pin dropped on a zoomed-out map counts as rough.
(function () {
  "use strict";
  var box = document.getElementById("pin-map");
  if (!box || !window.L) return;
  var field = function (name) { return document.getElementById("id_" + name); };
  var status = box.querySelector("[role=status]");
  var clear = box.querySelector("button");
  var d = box.dataset;
  box.hidden = false;
  var map = L.map(box.querySelector(".map-canvas")).setView([+d.lat, +d.lon], +d.zoom);
  L.tileLayer(d.tiles, { attribution: d.attribution, maxZoom: 19 }).addTo(map);
  var marker = null;
  var FINGER_PX = 22;

  function fingertip(lat, zoom) {
    var perPixel = 156543.03 * Math.cos(lat * Math.PI / 180) / Math.pow(2, zoom);
    return Math.max(10, Math.round(perPixel * FINGER_PX));
  }

  function show(latlng, accuracy, by) {
    if (!marker) {
      marker = L.marker(latlng, {
        draggable: true,
        keyboard: true,
        title: d.pinTitle,
        alt: d.pinTitle,
        icon: L.divIcon({ className: "map-pin", html: "<span></span>", iconSize: [26, 26], iconAnchor: [13, 30] })
      }).addTo(map);
      marker.on("dragend", function () {
        var p = marker.getLatLng();
        show(p, fingertip(p.lat, map.getZoom()), "pin");
      });
    } else {
      marker.setLatLng(latlng);
    }
    field("lat").value = (+latlng.lat).toFixed(6);
    field("lon").value = (+latlng.lng).toFixed(6);
    field("accuracy").value = accuracy;
    field("located_by").value = by;
    if (by === "pin") status.textContent = d.placed.replace("{m}", accuracy);
    clear.hidden = false;
  }

  map.on("click", function (e) {
    show(e.latlng, fingertip(e.latlng.lat, map.getZoom()), "pin");
  });
  document.addEventListener("defensa:located", function (e) {
    var p = L.latLng(e.detail.lat, e.detail.lon);
    show(p, e.detail.accuracy, "gps");
    map.setView(p, Math.max(map.getZoom(), 16));
  });
  clear.addEventListener("click", function () {
    if (marker) { map.removeLayer(marker); marker = null; }
    ["lat", "lon", "accuracy", "located_by"].forEach(function (n) { field(n).value = ""; });
    status.textContent = d.cleared;
    clear.hidden = true;
  });
  // The form came back with an error: show the place already chosen.
  if (field("lat").value && field("lon").value) {
    var p = L.latLng(+field("lat").value, +field("lon").value);
    show(p, field("accuracy").value || fingertip(p.lat, map.getZoom()), field("located_by").value || "gps");
    map.setView(p, 16);
    status.textContent = "";
  }
})();
