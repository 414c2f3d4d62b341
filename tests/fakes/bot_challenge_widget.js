// A stand-in for Turnstile's and hCaptcha's widget scripts, for tests without internet: each widget element
// becomes a checkbox; ticking it puts a token in the form under the provider's field name, as the real widget does.
(function () {
  "use strict";
  var fields = { "cf-turnstile": "cf-turnstile-response", "h-captcha": "h-captcha-response" };
  Object.keys(fields).forEach(function (cssClass) {
    document.querySelectorAll("." + cssClass).forEach(function (element) {
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.setAttribute("data-standin-widget", "");
      label.appendChild(box);
      label.appendChild(document.createTextNode(" I am human (test widget)"));
      var token = document.createElement("input");
      token.type = "hidden";
      token.name = fields[cssClass];
      box.addEventListener("change", function () {
        token.value = box.checked ? "standin-pass-" + Math.random().toString(36).slice(2) : "";
      });
      element.appendChild(label);
      element.appendChild(token);
    });
  });
})();
