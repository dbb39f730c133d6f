// Porthole test SPA. Proves that root-relative URLs work behind a proxy:
// the stylesheet (checked through a custom property it sets), this script,
// and fetch("/api/data"). Writes PORTHOLE-SPA-OK into #status only when all
// three worked, otherwise "PORTHOLE-SPA-FAILED: <what>".
(function () {
  "use strict";

  var EXPECTED_SOURCE = "porthole-test-spa";

  function report(text, ok) {
    var element = document.getElementById("status");
    if (element) {
      element.textContent = text;
      element.setAttribute("data-state", ok ? "ok" : "failed");
    }
  }

  function fail(what) {
    report("PORTHOLE-SPA-FAILED: " + what, false);
  }

  function stylesheetApplied() {
    var value = window
      .getComputedStyle(document.documentElement)
      .getPropertyValue("--porthole-css");
    return value.trim() === "loaded";
  }

  function run() {
    if (!stylesheetApplied()) {
      fail("stylesheet /assets/app.css not applied");
      return;
    }
    fetch("/api/data", { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("/api/data answered HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (!data || data.source !== EXPECTED_SOURCE) {
          throw new Error("/api/data answered unexpected JSON");
        }
        report("PORTHOLE-SPA-OK", true);
      })
      .catch(function (error) {
        fail(error && error.message ? error.message : String(error));
      });
  }

  // "load" fires after the stylesheet has been applied (or has failed).
  if (document.readyState === "complete") {
    run();
  } else {
    window.addEventListener("load", run);
  }
})();
