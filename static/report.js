// "Imprimir" on the consultation report: buttons with data-print open the browser's print dialog.
document.addEventListener("click", function (event) {
  var el = event.target.closest && event.target.closest("[data-print]");
  if (el) { event.preventDefault(); window.print(); }
});
