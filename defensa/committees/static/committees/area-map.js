// The area page's map, only when the operator configured a tile server: the neighbourhood
// cells listed as check boxes, drawn as hexagons. Tapping one ticks or unticks its box; the
// boxes stay the accessible, complete way to choose (this adds nothing the list lacks).
(function () {
  "use strict";
  var box = document.getElementById("area-map");
  if (!box || !window.L) return;
  var d = box.dataset;
  box.hidden = false;
  var map = L.map(box.querySelector(".map-canvas")).setView([+d.lat, +d.lon], +d.zoom);
  L.tileLayer(d.tiles, { attribution: d.attribution, maxZoom: 19 }).addTo(map);
  var shapes = [];

  function words(text) {
    var el = document.createElement("span");
    el.textContent = text; // never as HTML
    return el;
  }

  function point(value) {
    return value.split(",").map(Number);
  }

  function paint(shape, input) {
    var path = shape.getElement();
    if (path) path.classList.toggle("chosen", input.checked);
  }

  box.querySelectorAll("li[data-cell]").forEach(function (li) {
    var input = document.querySelector('input[name="nearby_cells"][value="' + li.getAttribute("data-cell") + '"]');
    if (!input) return;
    var label = input.closest("label");
    var shape = L.polygon(li.getAttribute("data-boundary").split(";").map(point), { className: "area-cell" })
      .bindTooltip(words(label ? label.textContent.trim() : ""))
      .on("click", function () {
        input.checked = !input.checked;
        paint(shape, input);
      })
      .addTo(map);
    shape.getElement().setAttribute("data-cell", li.getAttribute("data-cell"));
    input.addEventListener("change", function () { paint(shape, input); });
    paint(shape, input);
    shapes.push(shape);
  });
  if (shapes.length) map.fitBounds(L.featureGroup(shapes).getBounds(), { padding: [12, 12] });
})();
