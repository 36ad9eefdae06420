/* Klarna Payments JS SDK stand-in, served by the Klarna simulator.
 * Same surface as https://x.klarnacdn.net/kp/lib/v1/api.js:
 * Klarna.Payments.init/load/authorize/reauthorize/finalize/loadPaymentReview/on/off,
 * the same callback shapes and thrown error names. It is not Klarna. */
(function () {
  "use strict";
  if (window.Klarna && window.Klarna.Payments && window.Klarna.Payments.__simulator) return;

  function KlarnaError(name, message) {
    var e = new Error(message || name);
    e.name = name;
    return e;
  }
  var EVENTS = ["heightChanged", "fullscreenOverlayShown", "fullscreenOverlayHidden"];
  var st = { token: null, base: null, claims: null, summary: null, loaded: {}, listeners: {}, cssLoaded: false };

  function b64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    return decodeURIComponent(Array.prototype.map.call(atob(s), function (c) {
      return "%" + ("00" + c.charCodeAt(0).toString(16)).slice(-2);
    }).join(""));
  }
  function emit(name, payload) {
    (st.listeners[name] || []).slice().forEach(function (h) { try { h(payload); } catch (e) { console.error(e); } });
  }
  function post(path, body) {
    body.client_token = st.token;
    return fetch(st.base + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
  }
  function args(a, b, c) { // (options, data?, callback)
    if (typeof b === "function") return { options: a || {}, data: null, cb: b };
    return { options: a || {}, data: b || null, cb: typeof c === "function" ? c : function () {} };
  }
  function ensureCSS() {
    if (st.cssLoaded) return;
    var l = document.createElement("link");
    l.rel = "stylesheet";
    l.href = st.base + "/kp/lib/v1/sim.css";
    document.head.appendChild(l);
    st.cssLoaded = true;
  }
  // money formats integer minor units without floating point.
  function money(minor, currency, locale) {
    var digits = 2;
    try { digits = new Intl.NumberFormat("en", { style: "currency", currency: currency }).resolvedOptions().maximumFractionDigits; } catch (e) {}
    var neg = minor < 0, s = String(Math.abs(minor));
    while (s.length <= digits) s = "0" + s;
    var dec = digits ? s.slice(0, s.length - digits) + "." + s.slice(s.length - digits) : s;
    try { return new Intl.NumberFormat(locale || "en", { style: "currency", currency: currency }).format((neg ? "-" : "") + dec); }
    catch (e) { return (neg ? "-" : "") + dec + " " + currency; }
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function category(options) {
    if (options.payment_method_category) return options.payment_method_category;
    if (options.payment_method_categories && options.payment_method_categories.length) return options.payment_method_categories[0];
    return null;
  }
  function result(r) { // strip the simulator's own fields
    var out = { approved: !!r.approved, show_form: !!r.show_form };
    if (r.authorization_token) out.authorization_token = r.authorization_token;
    if (r.finalize_required) out.finalize_required = true;
    if (r.error) out.error = r.error;
    return out;
  }

  // dialog shows the simulated Klarna purchase dialog and resolves with the
  // shopper's choice.
  function dialog(title, choices) {
    return new Promise(function (resolve) {
      var s = st.summary || { lines: [], order_amount: 0, purchase_currency: "EUR" };
      var prev = document.activeElement;
      var overlay = el("div", "ksim-overlay");
      var box = el("div", "ksim-dialog");
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-modal", "true");
      box.setAttribute("aria-labelledby", "ksim-title");
      box.setAttribute("data-testid", "klarna-sim-dialog");
      var head = el("div", "ksim-head");
      head.appendChild(el("span", "ksim-logo", "Klarna."));
      head.appendChild(el("span", "ksim-badge", "SIMULATOR · not a real payment"));
      box.appendChild(head);
      var h = el("h2", null, title);
      h.id = "ksim-title";
      box.appendChild(h);
      var total = el("p", "ksim-total", money(s.order_amount, s.purchase_currency, s.locale));
      total.setAttribute("data-testid", "klarna-sim-amount");
      box.appendChild(total);
      var ul = el("ul", "ksim-lines");
      (s.lines || []).forEach(function (l) {
        var li = el("li");
        li.appendChild(el("span", null, l.quantity + " × " + l.name));
        li.appendChild(el("span", null, money(l.total_amount, s.purchase_currency, s.locale)));
        ul.appendChild(li);
      });
      box.appendChild(ul);
      var actions = el("div", "ksim-actions");
      function done(v) {
        document.removeEventListener("keydown", onKey, true);
        overlay.remove();
        emit("fullscreenOverlayHidden");
        if (prev && prev.focus) prev.focus();
        resolve(v);
      }
      function onKey(e) { if (e.key === "Escape") { e.preventDefault(); done("abort"); } }
      choices.forEach(function (c, i) {
        var b = el("button", "ksim-btn" + (i === 0 ? " ksim-primary" : ""), c.label);
        b.type = "button";
        b.setAttribute("data-testid", "klarna-sim-" + c.value);
        b.addEventListener("click", function () { done(c.value); });
        actions.appendChild(b);
      });
      box.appendChild(actions);
      var close = el("button", "ksim-close", "×");
      close.type = "button";
      close.setAttribute("aria-label", "Close");
      close.setAttribute("data-testid", "klarna-sim-close");
      close.addEventListener("click", function () { done("abort"); });
      box.appendChild(close);
      overlay.appendChild(box);
      document.body.appendChild(overlay);
      document.addEventListener("keydown", onKey, true);
      emit("fullscreenOverlayShown");
      actions.firstChild.focus();
    });
  }
  var AUTHORIZE_CHOICES = [
    { value: "approve", label: "Approve purchase" },
    { value: "pending", label: "Approve, pending review" },
    { value: "finalize", label: "Approve, needs finalize" },
    { value: "invalid", label: "Report invalid e-mail" },
    { value: "decline", label: "Decline" }
  ];
  // Test data for the customer token a tokenizing session makes (the
  // simulator's token behaviours; see tokens.go).
  var TOKEN_CHOICES = [
    { value: "approve+token_soft_decline", label: "Approve; renewals declined twice, then paid" },
    { value: "approve+token_hard_decline", label: "Approve; renewals refused (payment method unavailable)" },
    { value: "approve+token_suspended", label: "Approve; token suspended" }
  ];

  function authorizeFlow(path, a, extra) {
    ensureCSS();
    var body = { payment_method_category: category(a.options), auto_finalize: a.options.auto_finalize, data: a.data };
    for (var k in extra) body[k] = extra[k];
    return post(path, body).then(function (r) {
      if (r.status !== 200) throw KlarnaError(r.body.error || "AuthorizationError", r.body.message);
      if (!r.body.dialog) return r.body;
      var title = path === "/browser/finalize" ? "Confirm your payment" : "Pay with Klarna";
      var choices = path === "/browser/finalize"
        ? [{ value: "approve", label: "Confirm payment" }, { value: "decline", label: "Decline" }]
        : AUTHORIZE_CHOICES;
      if (path === "/browser/authorize" && st.summary && st.summary.intent && st.summary.intent !== "buy") {
        choices = choices.concat(TOKEN_CHOICES);
      }
      return dialog(title, choices).then(function (outcome) {
        body.outcome = outcome;
        return post(path, body).then(function (r2) {
          if (r2.status !== 200) throw KlarnaError(r2.body.error || "AuthorizationError", r2.body.message);
          return r2.body;
        });
      });
    });
  }

  var Payments = {
    __simulator: true,
    init: function (opts) {
      var tok = opts && opts.client_token;
      var parts = typeof tok === "string" ? tok.split(".") : [];
      var claims = null;
      if (parts.length === 3) { try { claims = JSON.parse(b64url(parts[1])); } catch (e) { claims = null; } }
      if (!claims || !claims.session_id || !claims.base_url) throw KlarnaError("InvalidClientTokenError", "client_token is not a valid JWT");
      st.token = tok; st.claims = claims; st.base = claims.base_url; st.loaded = {}; st.summary = null;
    },
    load: function (a1, a2, a3) {
      var a = args(a1, a2, a3);
      if (!st.token) { a.cb({ show_form: false }); throw KlarnaError("ApplicationNotInitializedError"); }
      var container = a.options.container;
      if (typeof container === "string") { try { container = document.querySelector(container); } catch (e) { container = null; } }
      if (!container || !container.appendChild) { a.cb({ show_form: false }); throw KlarnaError("InvalidContainerSelectorError"); }
      ensureCSS();
      var cat = category(a.options);
      post("/browser/load", { data: a.data }).then(function (r) {
        if (r.status !== 200) { a.cb({ show_form: false }); return; }
        st.summary = r.body;
        // Choice: without a category the widget shows the session's first one.
        if (!cat && r.body.categories.length) cat = r.body.categories[0].identifier;
        var c = r.body.categories.filter(function (x) { return x.identifier === cat; })[0];
        if (!c) { a.cb({ show_form: false }); return; }
        st.loaded[cat] = true;
        container.textContent = "";
        var w = el("div", "ksim-widget");
        w.setAttribute("data-testid", "klarna-sim-widget");
        var img = el("img");
        img.src = c.asset_url; img.alt = ""; img.width = 120; img.height = 28;
        w.appendChild(img);
        var txt = el("div", "ksim-widget-text");
        txt.appendChild(el("strong", null, c.name));
        txt.appendChild(el("span", null, money(r.body.order_amount, r.body.purchase_currency, r.body.locale) + " · Klarna simulator"));
        w.appendChild(txt);
        container.appendChild(w);
        emit("heightChanged", w.offsetHeight);
        a.cb({ show_form: true });
      }, function () { a.cb({ show_form: false }); });
    },
    authorize: function (a1, a2, a3) {
      var a = args(a1, a2, a3);
      var cat = category(a.options);
      if (!cat || !st.loaded[cat]) {
        if (Object.keys(st.loaded).length === 0) throw KlarnaError("ApplicationNotLoadedError");
        throw KlarnaError("PaymentMethodCategoryNotSupportedError");
      }
      authorizeFlow("/browser/authorize", a, {}).then(function (r) { a.cb(result(r)); },
        function (e) { console.error(e); a.cb({ approved: false, show_form: false }); });
    },
    reauthorize: function (a1, a2, a3) {
      var a = args(a1, a2, a3);
      if (Object.keys(st.loaded).length === 0) throw KlarnaError("ApplicationNotLoadedError");
      authorizeFlow("/browser/authorize", a, { reauthorize: true }).then(function (r) {
        var out = result(r); delete out.show_form; a.cb(out);
      }, function (e) { console.error(e); a.cb({ approved: false }); });
    },
    finalize: function (a1, a2, a3) {
      var a = args(a1, a2, a3);
      if (Object.keys(st.loaded).length === 0) throw KlarnaError("ApplicationNotLoadedError");
      authorizeFlow("/browser/finalize", a, {}).then(function (r) { a.cb(result(r)); },
        function (e) { console.error(e); a.cb({ approved: false, show_form: false }); });
    },
    loadPaymentReview: function (a1, a2) {
      var a = args(a1, a2);
      if (!st.claims || st.claims.purchase_country !== "US") throw KlarnaError("OperationNotSupportedError");
      a.cb({ show_form: true });
    },
    on: function (name, handler) {
      if (EVENTS.indexOf(name) < 0) throw KlarnaError("EventNotSupportedError");
      (st.listeners[name] = st.listeners[name] || []).push(handler);
    },
    off: function (name, handler) {
      if (EVENTS.indexOf(name) < 0) throw KlarnaError("EventNotSupportedError");
      if (!handler) { st.listeners[name] = []; return; }
      st.listeners[name] = (st.listeners[name] || []).filter(function (h) { return h !== handler; });
    }
  };
  window.Klarna = window.Klarna || {};
  window.Klarna.Payments = Payments;
  if (typeof window.klarnaAsyncCallback === "function") setTimeout(window.klarnaAsyncCallback, 0);
})();
