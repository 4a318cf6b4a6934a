// Copy buttons: copy the text of the element named by data-target. Without
// JavaScript the codes stay in read-only text areas that can be selected.
document.addEventListener("click", function (e) {
  var b = e.target.closest("button.copy");
  if (!b) return;
  var t = document.getElementById(b.dataset.target);
  if (!t) return;
  t.select();
  var done = function () { var old = b.textContent; b.textContent = b.dataset.done; setTimeout(function () { b.textContent = old; }, 1500); };
  if (navigator.clipboard) { navigator.clipboard.writeText(t.value).then(done, function () { document.execCommand("copy"); done(); }); }
  else { document.execCommand("copy"); done(); }
});
