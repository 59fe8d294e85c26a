// The tariff editor's script (web/routes_tariff.py). The page works without it: rows are
// added by filling the spare row, and the Preview button posts the form. With it, the
// preview follows the form as it is typed, and "Add a row" copies a group's last row.
(function () {
  "use strict";
  var form = document.getElementById("tariff-form");
  var pane = document.getElementById("tariff-preview");
  if (!form || !pane) { return; }
  var timer = null;
  var asked = 0;

  function refresh() {
    var body = new URLSearchParams(new FormData(form));
    body.set("action", "preview");
    var mine = ++asked;
    fetch(form.dataset.preview, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (response) { return response.text(); })
      .then(function (html) { if (mine === asked) { pane.innerHTML = html; } })
      .catch(function () { /* the Preview button still works */ });
  }

  function soon() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 500);
  }

  // A copy of a group's last row with the next index in every name and id, emptied.
  function renumber(node, pattern, next) {
    node.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(pattern, "$1" + next + "_")); }
      });
      el.removeAttribute("aria-describedby");
      el.removeAttribute("aria-invalid");
      if (el.tagName === "INPUT") { el.value = ""; }
      if (el.tagName === "SELECT") { el.selectedIndex = 0; }
    });
    node.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
  }

  function addButton(after, add) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "add-row";
    button.textContent = form.dataset.addLabel;
    button.addEventListener("click", add);
    after.insertAdjacentElement("afterend", button);
  }

  // Tier, band and fixed-charge rows: name prefixes such as season0_tier2_, band1_, fixed0_.
  function wireTable(body) {
    var last = body.querySelector("tr[data-row]:last-of-type");
    if (!last) { return; }
    addButton(body.closest(".table-wrap"), function () {
      var rows = body.querySelectorAll("tr[data-row]");
      var tail = rows[rows.length - 1];
      var next = Number(tail.dataset.index) + 1;
      var copy = tail.cloneNode(true);
      renumber(copy, new RegExp("(" + tail.dataset.row + ")\\d+_"), next);
      copy.dataset.index = String(next);
      var head = copy.querySelector("th[scope=row]");
      if (head && tail.dataset.row === "tier") { head.textContent = String(next + 1); }
      body.appendChild(copy);
    });
  }

  form.querySelectorAll("table.rows tbody").forEach(wireTable);

  var seasons = form.querySelectorAll("fieldset.season");
  if (seasons.length) {
    addButton(seasons[seasons.length - 1], function () {
      var all = form.querySelectorAll("fieldset.season");
      var tail = all[all.length - 1];
      var next = Number(tail.dataset.index) + 1;
      var copy = tail.cloneNode(true);
      renumber(copy, /^(season)\d+_/, next);
      copy.querySelectorAll("button.add-row").forEach(function (el) { el.remove(); });
      copy.id = "season" + next;
      copy.dataset.index = String(next);
      var legend = copy.querySelector("legend");
      if (legend) { legend.textContent = legend.textContent.replace(/\d+/, String(next + 1)); }
      var told = tail.querySelector("legend");
      if (told) { told.textContent = told.textContent.split(" · ")[0]; }  // no longer the spare
      tail.insertAdjacentElement("afterend", copy);
      copy.querySelectorAll("table.rows tbody").forEach(wireTable);
    });
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
}());
