// Progressive enhancement for every page: the market switcher submits on
// change. Everything works without it.
document.documentElement.classList.add("js");
document.addEventListener("change", function (e) {
  if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});

// Pages waiting on Klarna (an order being confirmed, a fraud review) mark an
// element with data-refresh; reload them after a few seconds. Without
// JavaScript they offer a "Refresh now" link instead.
(function () {
  var el = document.querySelector("[data-refresh]");
  if (!el) return;
  var secs = parseInt(el.getAttribute("data-refresh-seconds"), 10) || 4;
  setTimeout(function () { window.location.reload(); }, secs * 1000);
})();
