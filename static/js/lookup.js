// Tom Select (static/vendor/tom-select) on the filter forms, loaded after it. Safe to load more than once.
//
// <select data-lookup-url>: a type-ahead whose options come from common.lookups.LookupView as the user
// types (?q=text → {"results": [{"id", "text"}]}). The page renders only the chosen row, so without
// JavaScript the select still submits it and the free-text search still works. With data-filter-url (an
// admin list filter), choosing a row goes to that URL, its "__ID__" replaced by the row's id.
//
// <select data-searchable>: a long choice list (single or multiple) that filters as the user types.
(function () {
  function lookupSettings(select) {
    var blank = select.querySelector('option[value=""]');
    return {
      valueField: "id",
      labelField: "text",
      searchField: [],
      // The server already matched the text (reference or title, name, username…): keep its order and rows.
      score: function () { return function () { return 1; }; },
      placeholder: blank ? blank.textContent.replace(/^-+$/, "") || "Type to search…" : "Type to search…",
      allowEmptyOption: false,
      preload: "focus",
      loadThrottle: 200,
      maxOptions: null,
      plugins: select.dataset.filterUrl ? [] : ["clear_button"],
      shouldLoad: function () { return true; },
      load: function (query, callback) {
        var self = this;
        var url = select.dataset.lookupUrl + "?q=" + encodeURIComponent(query);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            // Offer this search's rows only (the chosen row is kept), not every row fetched so far.
            self.clearOptions();
            callback(data.results.map(function (row) { return { id: String(row.id), text: row.text }; }));
          })
          .catch(function () { callback(); });
      },
      render: {
        no_results: function () { return '<div class="no-results">No matches</div>'; },
        loading: function () { return '<div class="spinner-border spinner-border-sm m-2" role="status"></div>'; },
      },
      onChange: function (value) {
        if (value && select.dataset.filterUrl) {
          window.location.href = select.dataset.filterUrl.replace("__ID__", encodeURIComponent(value));
        }
      },
    };
  }

  function searchableSettings(select) {
    return {
      plugins: select.multiple ? ["remove_button", "checkbox_options"] : ["clear_button"],
      maxOptions: null,
      hidePlaceholder: true,
      placeholder: "Any — type to search…",
      allowEmptyOption: false,
    };
  }

  function enhance(select, settings) {
    if (select.tomselect || typeof TomSelect === "undefined") { return; }
    new TomSelect(select, settings(select));
  }

  function enhanceAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("select[data-lookup-url]").forEach(function (s) { enhance(s, lookupSettings); });
    scope.querySelectorAll("select[data-searchable]").forEach(function (s) {
      // An admin inline's blank row is a template the admin clones: left plain, its clones enhanced when added.
      if (!s.closest(".empty-form")) { enhance(s, searchableSettings); }
    });
  }

  document.addEventListener("formset:added", function (event) { enhanceAll(event.target); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(); });
  } else {
    enhanceAll();
  }
})();
