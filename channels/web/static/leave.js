// "Leave quickly": replace this page in the history so Back does not return here.
// Without JavaScript the link still goes to the same harmless site.
document.addEventListener("DOMContentLoaded", function () {
  var link = document.getElementById("leave");
  if (!link) { return; }
  link.addEventListener("click", function (event) {
    event.preventDefault();
    window.location.replace(link.href);
  });
});
