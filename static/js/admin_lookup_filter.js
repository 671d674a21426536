// Admin list filter over thousands of rows (reports.admin_tools.LookupFieldListFilter): a search box
// fills the select from the lookup URL (JSON, common.lookups.LookupView); choosing a row applies the filter.
(function () {
  function enhance(select) {
    if (select.dataset.enhanced) { return; }
    select.dataset.enhanced = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.placeholder = "Type to search…";
    box.style.maxWidth = "100%";
    box.setAttribute("aria-label", select.getAttribute("aria-label") || "Search");
    select.parentNode.insertBefore(box, select);
    var timer = null;
    function search() {
      fetch(select.dataset.lookupUrl + "?q=" + encodeURIComponent(box.value), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          select.length = 1;
          data.results.forEach(function (row) { select.add(new Option(row.text, row.id)); });
        });
    }
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 200); });
    ["focus", "mousedown"].forEach(function (event) {
      select.addEventListener(event, function () { if (select.length === 1) { search(); } });
    });
    select.addEventListener("change", function () {
      if (select.value) {
        window.location.href = select.dataset.filterUrl.replace("__ID__", encodeURIComponent(select.value));
      }
    });
  }
  document.querySelectorAll("select.admin-lookup-filter").forEach(enhance);
})();
