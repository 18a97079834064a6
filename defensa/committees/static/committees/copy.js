// Progressive enhancement: a "Copy" button for the new invitation link. Without
// JavaScript the read-only text box is still there to select and copy by hand.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var target = document.getElementById(button.getAttribute("data-copy"));
  if (!target || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(target.value).then(function () {
      button.textContent = button.getAttribute("data-done");
    });
  });
});
