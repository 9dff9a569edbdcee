// trainrec pages: the little script they use (no inline scripts: the pages' policy allows this file only).
// A <select data-autosubmit> sends its form when changed (a button in <noscript> does without script).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
