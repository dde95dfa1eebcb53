/* Nurture website snippet: first-party visitor id, page views, form submissions, and
   identification when the visitor arrives from a tracked email link. No third-party
   cookie is used: the visitor id lives in a cookie on the marketer's own site.
   Options (set before loading): window.nurture = { cookieDomain: "example.com" }. */
(function (w, d) {
  "use strict";
  var endpoint = "__NURTURE_COLLECT_URL__";
  var KEY = "nurture_vid";
  var options = w.nurture || {};
  if (options.loaded) return;

  function readCookie(name) {
    var match = d.cookie.match(new RegExp("(?:^|; )" + name + "=([A-Za-z0-9_-]{8,64})"));
    return match ? match[1] : null;
  }
  function newId() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID().replace(/-/g, "");
    var id = "";
    for (var i = 0; i < 32; i++) id += Math.floor(Math.random() * 16).toString(16);
    return id;
  }
  var vid = readCookie(KEY) || newId();
  // Renewed on every visit; about 13 months, the longest most regulators accept.
  d.cookie = KEY + "=" + vid + "; path=/; max-age=34190000; SameSite=Lax" +
    (options.cookieDomain ? "; domain=" + options.cookieDomain : "") +
    (w.location.protocol === "https:" ? "; Secure" : "");

  function send(data) {
    data.vid = vid;
    var body = JSON.stringify(data);
    // text/plain keeps it a "simple" cross-origin request: no CORS preflight.
    if (w.navigator.sendBeacon &&
        w.navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
    try {
      w.fetch(endpoint, { method: "POST", body: body, keepalive: true, mode: "no-cors",
                          headers: { "Content-Type": "text/plain" } });
    } catch (e) { /* tracking must never break the page */ }
  }

  // The identity parameter a tracked email link added: read it once, then remove it from
  // the address bar so it is not bookmarked, shared or sent on as a referrer.
  var nv = null;
  try {
    var params = new URLSearchParams(w.location.search);
    nv = params.get("nv");
    if (nv) {
      params.delete("nv");
      var query = params.toString();
      w.history.replaceState(w.history.state, "",
        w.location.pathname + (query ? "?" + query : "") + w.location.hash);
    }
  } catch (e) { nv = null; }

  function page() {
    var data = { type: "page", url: w.location.href, title: d.title, referrer: d.referrer };
    if (nv) { data.nv = nv; nv = null; }
    send(data);
  }

  function formSent(form) {
    if (!form || !form.getAttribute || form.hasAttribute("data-nurture-ignore")) return;
    // A page that validates in its submit handler and then calls form.submit() would
    // otherwise be counted twice for one submission.
    var now = Date.now();
    if (form.__nurtureSentAt && now - form.__nurtureSentAt < 2000) return;
    form.__nurtureSentAt = now;
    // Attributes, not properties: a field named "id" (or "action") shadows form.id, which
    // would send the input element itself and have the whole submission refused.
    // The email field's name is matched case-insensitively ("Email", "work_email").
    var email = form.querySelector("input[type=email], input[name*=email i]");
    var data = { type: "form", url: w.location.href,
                 form: form.getAttribute("name") || form.getAttribute("id") ||
                       form.getAttribute("action") || "form" };
    if (email && email.value) data.email = email.value;
    send(data);
  }

  d.addEventListener("submit", function (event) { formSent(event.target); }, true);

  // form.submit() called by the page's own script sends the form without any submit
  // event (form builders and "submit on change" widgets do this): wrap it once.
  var proto = w.HTMLFormElement && w.HTMLFormElement.prototype;
  if (proto && typeof proto.submit === "function" && !proto.submit.nurture) {
    var nativeSubmit = proto.submit;
    var submit = function () {
      try { formSent(this); } catch (e) { /* tracking must never break the page */ }
      return nativeSubmit.apply(this, arguments);
    };
    submit.nurture = true;
    proto.submit = submit;
  }

  // A page restored from the back/forward cache runs no script and fires no load event,
  // only "pageshow" with persisted set: count it as the page view it is.
  w.addEventListener("pageshow", function (event) { if (event.persisted) page(); });

  options.loaded = true;
  options.page = page;          // single-page apps: call nurture.page() after navigating
  options.visitorId = vid;
  w.nurture = options;
  page();
})(window, document);
