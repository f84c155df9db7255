// Buttons that change something hard to take back ask first: a form with data-confirm="Question?" is sent only
// after the question is answered OK. A static file, no inline script (CSP); without script the form is sent as it is.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
