/*
 * site.js: what every page of the issuance site does with JavaScript on.
 * Served by the mock at /static/site.js; the pages work without it.
 *
 * A link drawn as a button (`a.button`, `a[role=button]`) answers Space as a
 * button does; Enter already follows it.
 */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== " " || event.altKey || event.ctrlKey || event.metaKey) return;
    var link = event.target.closest && event.target.closest("a.button, a[role=button]");
    if (!link || link.getAttribute("aria-disabled") === "true") return;
    event.preventDefault();
    link.click();
  });
})();
