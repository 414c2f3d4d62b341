// Counts down from a deadline the server rendered; the server still decides what is allowed.
// Markup: [data-countdown][data-seconds-left] holding [data-countdown-clock],
// optional [data-countdown-running] / [data-countdown-done] parts,
// data-countdown-enables="<id> <id>..." naming buttons to enable at zero, and an optional
// [data-countdown-announcer] live region. Screen readers hear it only when a whole minute
// passes and at zero (the text of [data-countdown-done-message] or [data-countdown-done]):
// a region updated every second would talk over everything else.
(function () {
  "use strict";

  function format(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var ss = (s < 10 ? "0" : "") + s;
    if (h > 0) {
      return h + ":" + (m < 10 ? "0" : "") + m + ":" + ss;
    }
    return m + ":" + ss;
  }

  function start(el) {
    var secondsLeft = parseInt(el.getAttribute("data-seconds-left"), 10);
    if (isNaN(secondsLeft)) {
      return;
    }
    // Count from this page's own clock, not the absolute deadline, so a skewed device clock doesn't matter.
    var deadline = Date.now() + secondsLeft * 1000;
    var clocks = el.querySelectorAll("[data-countdown-clock]");
    var announcer = el.querySelector("[data-countdown-announcer]");
    var running = el.querySelector("[data-countdown-running]");
    var done = el.querySelector("[data-countdown-done-message]") || el.querySelector("[data-countdown-done]");
    var minutesLeft = Math.ceil(secondsLeft / 60);
    var timer = null;

    function announce(part) {
      if (announcer && part) {
        announcer.textContent = part.textContent.replace(/\s+/g, " ").trim();
      }
    }

    function render() {
      var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      for (var i = 0; i < clocks.length; i++) {
        clocks[i].textContent = format(left);
      }
      var minutes = Math.ceil(left / 60);
      var crossedMinute = minutes !== minutesLeft;
      minutesLeft = minutes;
      if (left > 0) {
        if (crossedMinute) {
          announce(running);
        }
        return;
      }
      clearInterval(timer);
      el.querySelectorAll("[data-countdown-running]").forEach(function (part) { part.hidden = true; });
      el.querySelectorAll("[data-countdown-done]").forEach(function (part) { part.hidden = false; });
      if (crossedMinute) {
        announce(done);
      }
      (el.getAttribute("data-countdown-enables") || "").split(/\s+/).forEach(function (id) {
        var target = id && document.getElementById(id);
        if (target) {
          target.disabled = false;
        }
      });
    }

    timer = setInterval(render, 1000);
    render();
  }

  // The code page's resend form names a JSON status route (data-delivery-status). While the code may still
  // arrive it is asked every POLL_MS: once a receipt says the code was not delivered, the page shows why and
  // offers every way at once, without a reload. Without JavaScript the page says the same on its next load.
  var POLL_MS = 5000;

  function watchDelivery(form) {
    var url = form.getAttribute("data-delivery-status");
    if (!url || form.hasAttribute("data-undelivered-seen") || !window.fetch) {
      return;
    }
    var expiry = document.querySelector(".countdown[data-countdown]");
    var stopAt = Date.now() + (expiry ? parseInt(expiry.getAttribute("data-seconds-left"), 10) || 0 : 0) * 1000;
    var timer = null;

    function undelivered() {
      clearInterval(timer);
      form.setAttribute("data-undelivered-seen", "");
      var alert = document.querySelector("[data-undelivered]");
      if (alert) {
        alert.hidden = false;
      }
      form.querySelectorAll("button[name=via]").forEach(function (button) { button.disabled = false; });
      form.querySelectorAll("[data-countdown]").forEach(function (hint) { hint.hidden = true; });
    }

    function ask() {
      if (Date.now() > stopAt) {
        clearInterval(timer);
        return;
      }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (status) {
          if (status && status.undelivered) {
            undelivered();
          }
        })
        .catch(function () { /* the next tick asks again */ });
    }

    timer = setInterval(ask, POLL_MS);
  }

  function init() {
    document.querySelectorAll("[data-countdown]").forEach(start);
    document.querySelectorAll("form[data-delivery-status]").forEach(watchDelivery);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
