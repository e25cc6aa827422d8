// Ask before destructive actions: forms with data-confirm show the text and submit only on OK.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var text = form.getAttribute && form.getAttribute("data-confirm");
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
