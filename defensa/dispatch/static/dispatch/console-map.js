// The console's map, only when the operator configured a tile server. Incidents sit at the
// centre of their neighbourhood cell (never a report's own point); hatched hexagons are the
// coarse home areas of verifiers on duty. It redraws after every refresh of the queue; the
// queue list itself stays the full, accessible record.
(function () {
  "use strict";
  var box = document.getElementById("incident-map");
  var queue = document.getElementById("queue");
  if (!box || !queue || !window.L) return;
  var d = box.dataset;
  box.hidden = false;
  var map = L.map(box.querySelector(".map-canvas")).setView([+d.lat, +d.lon], +d.zoom);
  L.tileLayer(d.tiles, { attribution: d.attribution, maxZoom: 19 }).addTo(map);
  var layer = L.layerGroup().addTo(map);
  var dots = {};
  var fitted = false;
  var selected = "";

  function label(words) {
    var el = document.createElement("span");
    el.textContent = words; // never as HTML: names and places come from people
    return el;
  }

  function point(value) {
    return value.split(",").map(Number);
  }

  function draw() {
    layer.clearLayers();
    dots = {};
    queue.querySelectorAll(".duty-areas [data-boundary]").forEach(function (li) {
      L.polygon(li.getAttribute("data-boundary").split(";").map(point), { className: "duty-area", interactive: true })
        .bindTooltip(label(li.getAttribute("data-label")))
        .addTo(layer);
    });
    var points = [];
    queue.querySelectorAll("li.incident[data-spot]").forEach(function (li) {
      var at = point(li.getAttribute("data-spot"));
      var id = li.getAttribute("data-incident");
      var state = (/state-(\w+)/.exec(li.className) || ["", ""])[1];
      var dot = L.circleMarker(at, { radius: 10, className: "incident-dot state-" + state + (id === selected ? " kb-selected" : "") })
        .bindTooltip(label(li.getAttribute("data-label")))
        .on("click", function () { window.location.href = li.querySelector("h3 a").href; })
        .addTo(layer);
      dots[id] = dot;
      points.push(at);
    });
    if (!fitted && points.length) {
      map.fitBounds(points, { maxZoom: 13, padding: [24, 24] });
      fitted = true;
    }
  }

  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (e.target === queue) draw();
  });
  // Keyboard selection (console.js): show which dot it is.
  document.addEventListener("defensa:select", function (e) {
    selected = e.detail.incident || "";
    draw();
    if (dots[selected]) dots[selected].openTooltip();
  });
  draw();
})();
