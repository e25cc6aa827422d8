// Ask before destructive actions: forms with data-confirm show the text and submit only on OK.
document.addEventListener("submit", function (event) {
  var form = event.target;
  // The button pressed may carry its own question (one form, "Simular" and "Executar agora").
  var text = (event.submitter && event.submitter.getAttribute("data-confirm")) ||
    (form.getAttribute && form.getAttribute("data-confirm"));
  if (text && !window.confirm(text)) { event.preventDefault(); }
}, true);
// "Selecionar todos" checkboxes: data-select-all="name" toggles every enabled box with that name.
document.addEventListener("change", function (event) {
  var el = event.target;
  var name = el.getAttribute && el.getAttribute("data-select-all");
  if (!name) { return; }
  document.querySelectorAll('input[type=checkbox][name="' + name + '"]:not(:disabled)').forEach(function (box) {
    box.checked = el.checked;
  });
});
// Narrow screens: the menu folds behind a "Menu" button (static/app.css hides it under 720 px).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest(".menu-toggle");
  if (!button) { return; }
  var bar = button.closest(".topbar");
  var open = !bar.classList.contains("menu-open");
  bar.classList.toggle("menu-open", open);
  button.setAttribute("aria-expanded", open ? "true" : "false");
});
// Customer XML import: follow the progress of a running import, then reload to show the results.
(function () {
  var box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-status") !== "running") { return; }
  var url = box.getAttribute("data-progress-url");
  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      document.getElementById("import-bar").value = data.percent;
      document.getElementById("import-percent").textContent = data.percent + "%";
      if (data.status !== "running") { window.location.reload(); } else { window.setTimeout(poll, 700); }
    }).catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
})();
// One date behaviour everywhere: date fields are text in dd/mm/aaaa (never the browser's own
// picker, which follows the browser's locale: 11/30/2026); typing digits adds the slashes.
document.addEventListener("input", function (event) {
  var el = event.target;
  if (!el.classList || !el.classList.contains("date") || event.inputType === "deleteContentBackward") { return; }
  var digits = el.value.replace(/\D/g, "").slice(0, 8);
  if (digits.length !== el.value.replace(/\//g, "").length) { return; }  // not only digits: leave it as typed
  var out = digits.slice(0, 2);
  if (digits.length > 2) { out += "/" + digits.slice(2, 4); }
  if (digits.length > 4) { out += "/" + digits.slice(4); }
  el.value = out;
});
