// Type-ahead for <select data-lookup-url>: a search box above the select fetches matching rows
// (JSON from common.lookups.LookupView) and offers them as the select's options. With
// data-filter-url (an admin list filter), choosing a row goes to that URL, its "__ID__" replaced
// by the row's id. Safe to load more than once on a page.
(function () {
  function enhance(select) {
    if (select.dataset.enhanced) { return; }
    select.dataset.enhanced = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.style.maxWidth = "100%";
    box.placeholder = "Type to search…";
    box.setAttribute("aria-label", select.getAttribute("aria-label") ||
      "Search " + (select.labels[0] ? select.labels[0].textContent : ""));
    select.parentNode.insertBefore(box, select);
    var timer = null;
    var loaded = false;
    function search() {
        loaded = true;
        var url = select.dataset.lookupUrl + "?q=" + encodeURIComponent(box.value);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            var keep = select.value;
            var current = select.selectedIndex > 0 ? select.options[select.selectedIndex] : null;
            var blank = select.options[0];
            select.innerHTML = "";
            select.appendChild(blank);
            data.results.forEach(function (row) {
              var option = new Option(row.text, row.id, false, String(row.id) === keep);
              select.appendChild(option);
            });
            // Never drop the row already chosen, even when this search did not find it.
            if (current && !Array.prototype.some.call(select.options, function (o) { return o.value === keep; })) {
              select.appendChild(current);
              select.value = keep;
            }
            // A lone match is chosen for the form; a list filter waits for the user's own choice.
            if (data.results.length === 1 && box.value && !select.dataset.filterUrl) {
              select.value = String(data.results[0].id);
            }
          });
    }
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    // The first rows, fetched once when the user first reaches for the list.
    ["focus", "mousedown"].forEach(function (event) {
      select.addEventListener(event, function () { if (!loaded) { search(); } });
    });
    if (select.dataset.filterUrl) {
      select.addEventListener("change", function () {
        if (select.value) {
          window.location.href = select.dataset.filterUrl.replace("__ID__", encodeURIComponent(select.value));
        }
      });
    }
  }
  document.querySelectorAll("select[data-lookup-url]").forEach(enhance);
})();
