// The province chooser's map: the static SVG inlined (so its provinces can be clicked and
// focused), each province a link to its page. The list beside it works without this script.
(function () {
  var holder = document.getElementById("map");
  if (!holder || !window.fetch) return;
  fetch(holder.dataset.map).then(function (r) { return r.ok ? r.text() : ""; }).then(function (svg) {
    if (!svg) return;
    holder.innerHTML = svg;
    holder.removeAttribute("aria-hidden");
    var map = holder.querySelector("svg");
    if (map) map.setAttribute("role", "group"); // its provinces are links, not parts of an image
    holder.querySelectorAll("path[data-province]").forEach(function (path) {
      var go = function () { location.href = holder.dataset.link.replace("CODE", path.dataset.province); };
      path.setAttribute("tabindex", "0");
      path.setAttribute("role", "link");
      path.addEventListener("click", go);
      path.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
      var title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = path.getAttribute("aria-label");
      path.appendChild(title);
    });
  });
})();
