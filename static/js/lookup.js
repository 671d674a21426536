// Type-ahead for <select data-lookup-url>: a search box above the select fetches matching rows
// (JSON from common.lookups.LookupView) and offers them as the select's options.
(function () {
  function enhance(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = "Type to search…";
    box.setAttribute("aria-label", "Search " + (select.labels[0] ? select.labels[0].textContent : ""));
    select.parentNode.insertBefore(box, select);
    var timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = select.dataset.lookupUrl + "?q=" + encodeURIComponent(box.value);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            var keep = select.value;
            var blank = select.options[0];
            select.innerHTML = "";
            select.appendChild(blank);
            data.results.forEach(function (row) {
              var option = new Option(row.text, row.id, false, String(row.id) === keep);
              select.appendChild(option);
            });
            if (data.results.length === 1) { select.value = String(data.results[0].id); }
          });
      }, 200);
    });
  }
  document.querySelectorAll("select[data-lookup-url]").forEach(enhance);
})();
