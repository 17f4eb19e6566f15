/* Second file: leaves a marker the browser test reads. */
(function () {
  var root = document.documentElement;
  root.setAttribute("data-assetbuild", window.E2E.version);
  var marker = document.createElement("p");
  marker.id = "assetbuild-marker";
  marker.textContent = "bundle ran: " + window.E2E.version;
  (document.body || root).appendChild(marker);
})();
