/*
 * Anchors to rows not loaded yet, on the pages that come in parts (the compare and party pages;
 * peaceplans/web/parts.py, components/next_rows.html). Those pages show their first 30 rows and
 * htmx loads each next part as its "Next rows" link [data-rows-next] scrolls into view. This script:
 *   - when the address names a row that is not on the page (a shared link "…#point-21d"), on load
 *     or on hashchange, loads the next parts in order until the row is there, opens the closed
 *     section holding it and scrolls to it;
 *   - does the same for a link marked data-rows-anchor (the index's and the summary's links to rows
 *     further on), in place of the address it points to;
 *   - when "Next rows" is clicked (or Enter pressed on it), moves the focus to the first row it brought.
 * Without it those links are plain addresses of the page through the row's part, with the anchor.
 */
(function () {
  "use strict";

  var WAIT_MS = 15000;

  function rowId(hash) {
    var id = "";
    try {
      id = decodeURIComponent((hash || "").slice(1));
    } catch (error) {
      return "";
    }
    return id.indexOf("point-") === 0 ? id : "";
  }

  // Resolves once `holder` (a "Next rows" link's row) has left the page, its part in its place: true;
  // false if it is still there after WAIT_MS.
  function whenGone(holder) {
    return new Promise(function (resolve) {
      var started = Date.now();
      var timer = window.setInterval(function () {
        if (!holder.isConnected || Date.now() - started > WAIT_MS) {
          window.clearInterval(timer);
          resolve(!holder.isConnected);
        }
      }, 50);
    });
  }

  // Load the part behind one "Next rows" link; true once its rows are in place of the link.
  function loadNext(link) {
    var holder = link.closest(".rows-next");
    if (!holder || !window.htmx) return Promise.resolve(false);
    // With the link as the source, a request its own trigger already made is not made twice.
    var request = window.htmx.ajax("GET", link.getAttribute("hx-get"), {
      source: link,
      target: holder,
      swap: "outerHTML"
    });
    if (request && request.catch) request.catch(function () {});
    return whenGone(holder);
  }

  async function reveal(id) {
    var row = document.getElementById(id);
    while (!row) {
      var next = document.querySelector("[data-rows-next]");
      if (!next || !(await loadNext(next))) return null;
      row = document.getElementById(id);
    }
    var closed = row.closest("details:not([open])");
    if (closed) closed.open = true;
    return row;
  }

  // Navigating to the anchor again, now that its row is there, scrolls to it and makes it the :target.
  function land(id) {
    window.location.replace("#" + id);
  }

  async function followHash() {
    var id = rowId(window.location.hash);
    if (!id || document.getElementById(id)) return;
    if (await reveal(id)) land(id);
  }

  document.addEventListener("click", async function (event) {
    var link = event.target.closest ? event.target.closest("a[data-rows-anchor]") : null;
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var id = rowId(new URL(link.href).hash);
    if (!id) return;
    event.preventDefault();
    if (!(await reveal(id))) {
      window.location.assign(link.href); // the plain address renders through the row
    } else if (window.location.hash === "#" + id) {
      land(id);
    } else {
      window.location.hash = id;
    }
  });

  // "Next rows" clicked (or Enter on it): the focus goes to the first row it brought, not to the page's top.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-rows-next]") : null;
    var holder = link && link.closest(".rows-next");
    if (!holder) return;
    var before = holder.previousElementSibling;
    var list = holder.parentElement;
    whenGone(holder).then(function (gone) {
      var first = before ? before.nextElementSibling : list.firstElementChild;
      var target = gone && first && first.querySelector("a[href]");
      if (target) target.focus({ preventScroll: true });
    });
  });

  window.addEventListener("hashchange", followHash);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", followHash);
  } else {
    followHash();
  }
})();
