// The tariff editor's script (web/routes_tariff.py). The page works without it: rows are
// added by filling the spare row, a row's Remove button posts the form back without it,
// and the Preview button posts the form. With it, the preview follows the form as it is
// typed, "Add a row" copies a group's last row, and Remove takes the row out of the page.
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

  // The copied row's Remove buttons name their new row: the value's index and the label's
  // number (the season's is the first number in a label, a tier's the last).
  function renumberRemove(node, group, next) {
    node.querySelectorAll("button.remove-row").forEach(function (el) {
      var parts = el.value.split(":");
      var last = group === "tier";
      if (group === "season") { parts[1] = String(next); } else { parts[parts.length - 1] = String(next); }
      el.value = parts.join(":");
      var label = el.getAttribute("aria-label") || "";
      var numbers = label.match(/\d+/g) || [];
      if (numbers.length) {
        var at = last ? label.lastIndexOf(numbers[numbers.length - 1]) : label.search(/\d/);
        var old = last ? numbers[numbers.length - 1] : numbers[0];
        el.setAttribute("aria-label", label.slice(0, at) + String(next + 1) + label.slice(at + old.length));
      }
    });
  }

  // The former spare row is a row now: it may be removed.
  function removable(button) { if (button) { button.hidden = false; } }

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
      renumberRemove(copy, tail.dataset.row, next);
      removable(tail.querySelector("button.remove-row"));
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
      renumberRemove(copy, "season", next);
      removable(tail.querySelector('button.remove-row[value^="season:"]'));
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

  // Remove: the row goes from the page (a band with its price in every season), focus goes
  // to the row that took its place (or the group's next control), and the preview follows.
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button.remove-row");
    if (!button) { return; }
    event.preventDefault();
    var row = button.closest("[data-row]");
    if (!row) { return; }
    var next = row.nextElementSibling;
    if (row.dataset.row === "band") {
      form.querySelectorAll('tr[data-band="' + row.dataset.index + '"]').forEach(function (el) { el.remove(); });
    }
    row.remove();
    var focus = next && (next.matches("button:not([hidden])") ? next
      : next.querySelector("input, select, button:not([hidden])"));
    if (focus) { focus.focus(); }
    refresh();
  });

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
}());
