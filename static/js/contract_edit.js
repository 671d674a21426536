// Pre-fill the sourcing model from the delivery centre's country and keep the centre list to the chosen vendor.
(function () {
  var data = JSON.parse(document.getElementById("sourcing-suggestions").textContent);
  var vendor = document.getElementById("id_vendor");
  var centre = document.getElementById("id_delivery_center");
  var sourcing = document.getElementById("id_sourcing_model");
  if (!vendor || !centre || !sourcing) return;
  var touched = sourcing.value !== "";
  sourcing.addEventListener("change", function () { touched = sourcing.value !== ""; });
  function filterCentres() {
    Array.prototype.forEach.call(centre.options, function (opt) {
      if (!opt.value) return;
      var info = data.centres[opt.value];
      opt.hidden = !!(vendor.value && info && info.vendor !== vendor.value);
    });
    var current = data.centres[centre.value];
    if (current && vendor.value && current.vendor !== vendor.value) centre.value = "";
  }
  function suggest() {
    var info = data.centres[centre.value];
    if (!touched && info && info.sourcing) sourcing.value = info.sourcing;
  }
  vendor.addEventListener("change", filterCentres);
  centre.addEventListener("change", suggest);
  filterCentres();
})();
