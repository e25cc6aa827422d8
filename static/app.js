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
