/* Behaviour a page declares with data attributes, so that no page needs inline script (the
   Content-Security-Policy allows none): a [data-print] button prints the page, and a
   [data-confirm] button asks its question before it submits. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print], [data-confirm]");
    if (!button) { return; }
    if (button.hasAttribute("data-print")) {
      window.print();
    } else if (!window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
