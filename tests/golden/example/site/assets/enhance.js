// Progressive enhancement for the KPI tables: click a heading to sort. Without JavaScript the
// tables are sorted by status, and the status, owner and tag pages filter them.
(function () {
  var order = { missed: 0, at_risk: 1, no_data: 2, met: 3, no_target: 4 };
  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-value");
    if (kind === "number") { return raw === "" || raw === null ? -Infinity : parseFloat(raw); }
    if (kind === "status") { return order[raw] === undefined ? 9 : order[raw]; }
    return cell.textContent.trim().toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th[data-sort]").forEach(function (th, index) {
      th.setAttribute("tabindex", "0");
      var sort = function () {
        var kind = th.getAttribute("data-sort");
        var up = th.getAttribute("aria-sort") !== "ascending";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
    });
  });
})();
