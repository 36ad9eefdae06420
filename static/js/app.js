// Progressive enhancement for every page: the market switcher submits on
// change. Everything works without it.
document.documentElement.classList.add("js");
document.addEventListener("change", function (e) {
  if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});
