// Porthole test SPA: the API probe. Does nothing unless the page URL asks
// for it with ?probe-api=BASE (and optionally &probe-context=BASE), e.g.
//   /?probe-api=http://localhost:8001&probe-context=http://porthole-admin.localhost:8001
// It then tries, from this page, to read the Kubernetes namespace list with
// the user's credentials — what a hostile service page would try:
//   same-origin:  fetch("/api/v1/namespaces")         (must reach this SPA's
//                 own backend through Porthole, not the Kubernetes API)
//   other-service: fetch("/api/v1/namespaces/default/services/https:kubernetes:443/proxy/api/v1/namespaces")
//                 (the apiserver through its own service, same-origin: must
//                 also stay on this SPA's backend)
//   api-host:     fetch(BASE + "/api/v1/namespaces")  (cross-origin)
//   context-host: fetch(CONTEXT + "/api/v1/namespaces") (cross-origin)
// and writes one line per target into #api-probe:
//   "NAME: status N, NamespaceList read" / "NAME: status N, no NamespaceList,
//   body: <first 40 characters>"
//   "NAME: blocked (TypeError[, CSP connect-src])"
// followed by "API-PROBE-DONE".
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.search);
  var api = params.get("probe-api");
  if (api === null) {
    return;
  }
  var targets = [
    ["same-origin", "/api/v1/namespaces"],
    ["other-service", "/api/v1/namespaces/default/services/https:kubernetes:443/proxy/api/v1/namespaces"],
    ["api-host", api + "/api/v1/namespaces"],
  ];
  var context = params.get("probe-context");
  if (context) {
    targets.push(["context-host", context + "/api/v1/namespaces"]);
  }

  // Origins the Content-Security-Policy refused to connect to.
  var cspBlocked = [];
  document.addEventListener("securitypolicyviolation", function (event) {
    cspBlocked.push(String(event.blockedURI) + " " + event.effectiveDirective);
  });

  function blockedByCsp(url) {
    var origin = new URL(url, window.location.href).origin;
    return cspBlocked.some(function (entry) {
      return entry.indexOf(origin) === 0 && entry.indexOf("connect-src") !== -1;
    });
  }

  function probe(target) {
    var name = target[0];
    var url = target[1];
    return fetch(url, { cache: "no-store", credentials: "include" })
      .then(function (response) {
        return response.text().then(function (body) {
          var list = /"kind"\s*:\s*"NamespaceList"/.test(body);
          var start = body.replace(/\s+/g, " ").trim().slice(0, 40);
          return name + ": status " + response.status +
            (list ? ", NamespaceList read" : ", no NamespaceList, body: " + start);
        });
      })
      .catch(function (error) {
        var kind = error && error.name ? error.name : "error";
        // The CSP violation event may come after the rejection: look later.
        return function () {
          return name + ": blocked (" + kind +
            (blockedByCsp(url) ? ", CSP connect-src" : "") + ")";
        };
      });
  }

  function run() {
    var output = document.getElementById("api-probe");
    if (!output) {
      return;
    }
    output.hidden = false;
    output.textContent = "API-PROBE-RUNNING";
    Promise.all(targets.map(probe)).then(function (outcomes) {
      window.setTimeout(function () {
        var lines = outcomes.map(function (outcome) {
          return typeof outcome === "function" ? outcome() : outcome;
        });
        lines.push("API-PROBE-DONE");
        output.textContent = lines.join("\n");
        output.setAttribute("data-state", "done");
      }, 100);
    });
  }

  if (document.readyState === "complete") {
    run();
  } else {
    window.addEventListener("load", run);
  }
})();
