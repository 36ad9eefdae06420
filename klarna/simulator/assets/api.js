/* Klarna Payments JS SDK stand-in, served by the Klarna simulator.
 * Same surface as https://x.klarnacdn.net/kp/lib/v1/api.js:
 * Klarna.Payments.init/load/authorize/reauthorize/finalize/loadPaymentReview/on/off,
 * with instance_id for several widgets on a page, the same callback shapes and
 * the same thrown error names (and, as Klarna's, the callback is called with
 * a refusal before a throw). It is not Klarna. */
(function () {
  "use strict";
  if (window.Klarna && window.Klarna.Payments && window.Klarna.Payments.__simulator) return;

  function KlarnaError(name, message) {
    var e = new Error(message || name);
    e.name = name;
    return e;
  }
  var EVENTS = ["heightChanged", "fullscreenOverlayShown", "fullscreenOverlayHidden"];
  // The categories and payment methods Klarna's own SDK knows; anything else
  // is refused before Klarna is asked (PaymentMethodCategoryNotSupportedError,
  // PreferredPaymentMethodNotSupportedError).
  var CATEGORIES = ["klarna", "card", "direct_bank_transfer", "direct_debit", "pay_in_parts", "pay_later", "pay_now", "pay_over_time"];
  var METHODS = ["base_account", "deferred_interest", "direct_bank_transfer", "direct_debit", "fixed_amount", "invoice", "b2b_invoice", "pix"];
  var INSTANCE_ID = /^[A-Za-z0-9_-]+$/;
  // The widget talks to the host it was loaded from, as Klarna's script
  // talks to Klarna: a page opened as 127.0.0.1 or by a LAN address then
  // stays on its own origin, and a client token need not name this host.
  var scriptBase = (function () {
    var el = document.currentScript;
    if (!el || !el.src) {
      var list = document.querySelectorAll("script[src]");
      for (var i = 0; i < list.length; i++) if (/\/kp\/lib\/v1\/api\.js([?#]|$)/.test(list[i].src)) el = list[i];
    }
    return el && el.src ? el.src.replace(/\/kp\/lib\/v1\/api\.js([?#].*)?$/, "") : null;
  })();
  // widgets are the loaded widgets by instance_id, or by category when
  // loaded without one: the categories shown and the one selected.
  var st = { token: null, base: null, claims: null, summary: null, widgets: {}, listeners: {}, cssLoaded: false };

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
  // The dialog's words in the session's language (Klarna's dialog follows
  // the session's locale); the simulator's test outcomes stay English.
  var WORDS = {
    en: { pay: "Pay with Klarna", confirm: "Confirm your payment", approve: "Approve purchase", confirmPay: "Confirm payment",
      decline: "Decline", close: "Close", badge: "SIMULATOR · not a real payment", simulator: "Klarna simulator", paying: "Paying with Klarna: ", approved: "approved" },
    sv: { pay: "Betala med Klarna", confirm: "Bekräfta din betalning", approve: "Godkänn köpet", confirmPay: "Bekräfta betalningen",
      decline: "Avböj", close: "Stäng", badge: "SIMULATOR · ingen riktig betalning", simulator: "Klarna-simulator", paying: "Betalar med Klarna: ", approved: "godkänd" },
    de: { pay: "Mit Klarna bezahlen", confirm: "Zahlung bestätigen", approve: "Kauf genehmigen", confirmPay: "Zahlung bestätigen",
      decline: "Ablehnen", close: "Schließen", badge: "SIMULATOR · keine echte Zahlung", simulator: "Klarna-Simulator", paying: "Zahlung mit Klarna: ", approved: "genehmigt" },
    nl: { pay: "Betalen met Klarna", confirm: "Bevestig je betaling", approve: "Aankoop goedkeuren", confirmPay: "Betaling bevestigen",
      decline: "Weigeren", close: "Sluiten", badge: "SIMULATOR · geen echte betaling", simulator: "Klarna-simulator", paying: "Betalen met Klarna: ", approved: "goedgekeurd" }
  };
  function lang() {
    var l = ((st.summary && st.summary.locale) || "en").slice(0, 2).toLowerCase();
    return WORDS[l] ? l : "en";
  }
  function word(key) { return WORDS[lang()][key]; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function loadedAny() { return Object.keys(st.widgets).length > 0; }
  // pick finds the category an authorize, reauthorize or finalize call is
  // about: its instance's selected category, or the category named.
  function pick(options) {
    if (options.instance_id != null) {
      var w = st.widgets["#" + options.instance_id];
      return w ? w.selected : null;
    }
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
      box.lang = lang();
      var head = el("div", "ksim-head");
      head.appendChild(el("span", "ksim-logo", "Klarna."));
      head.appendChild(el("span", "ksim-badge", word("badge")));
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
        var b = el("button", "ksim-btn" + (i === 0 ? " ksim-primary" : ""), c.word ? word(c.word) : c.label);
        b.type = "button";
        if (!c.word) b.lang = "en";
        b.setAttribute("data-testid", "klarna-sim-" + c.value);
        b.addEventListener("click", function () { done(c.value); });
        actions.appendChild(b);
      });
      box.appendChild(actions);
      var close = el("button", "ksim-close", "×");
      close.type = "button";
      close.setAttribute("aria-label", word("close"));
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
    { value: "approve", word: "approve" },
    { value: "pending", label: "Approve, pending review" },
    { value: "finalize", label: "Approve, needs finalize" },
    { value: "invalid", label: "Report invalid e-mail" },
    { value: "decline", word: "decline" }
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
    var body = { auto_finalize: a.options.auto_finalize, data: a.data };
    for (var k in extra) body[k] = extra[k];
    return post(path, body).then(function (r) {
      if (r.status !== 200) throw KlarnaError(r.body.error || "AuthorizationError", r.body.message);
      if (!r.body.dialog) return r.body;
      var title = path === "/browser/finalize" ? word("confirm") : word("pay");
      var choices = path === "/browser/finalize"
        ? [{ value: "approve", word: "confirmPay" }, { value: "decline", word: "decline" }]
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

  function resolve(container) {
    if (typeof container === "string") { try { container = document.querySelector(container); } catch (e) { container = null; } }
    return container && container.appendChild ? container : null;
  }
  function badge(c) {
    var img = el("img");
    img.src = c.asset_url; img.alt = ""; img.width = 120; img.height = 28;
    return img;
  }
  // draw renders a loaded widget: one category, or a choice among several
  // (payment_method_categories with an instance_id).
  function draw(container, w, body) {
    container.textContent = "";
    var box = el("div", "ksim-widget" + (w.categories.length > 1 ? " ksim-widget-many" : ""));
    box.setAttribute("data-testid", "klarna-sim-widget");
    if (w.instanceId) box.setAttribute("data-instance-id", w.instanceId);
    var amount = money(body.order_amount, body.purchase_currency, body.locale) + " · " + word("simulator");
    if (w.categories.length === 1) {
      var c = w.categories[0];
      box.appendChild(badge(c));
      var txt = el("div", "ksim-widget-text");
      txt.appendChild(el("strong", null, c.name));
      txt.appendChild(el("span", null, amount));
      box.appendChild(txt);
    } else {
      var fs = el("fieldset", "ksim-choices");
      fs.appendChild(el("legend", null, amount));
      w.categories.forEach(function (c, i) {
        var label = el("label", "ksim-choice");
        var input = el("input");
        input.type = "radio"; input.name = "ksim-" + w.instanceId; input.value = c.identifier; input.checked = i === 0;
        input.setAttribute("data-testid", "klarna-sim-choice-" + c.identifier);
        input.addEventListener("change", function () { if (input.checked) w.selected = c.identifier; });
        label.appendChild(input);
        label.appendChild(badge(c));
        label.appendChild(el("span", null, c.name));
        fs.appendChild(label);
      });
      box.appendChild(fs);
    }
    container.appendChild(box);
    emit("heightChanged", box.offsetHeight);
  }

  var Payments = {
    __simulator: true,
    // init accepts any JSON Web Token, as Klarna's does (its documentation's
    // own example is an HS256 token with {"foo":"bar"}); whether it names a
    // session Klarna knows shows at load.
    init: function (opts) {
      var tok = opts && opts.client_token;
      var parts = typeof tok === "string" ? tok.split(".") : [];
      var header = null, claims = null;
      if (parts.length === 3 && parts[0] && parts[1]) {
        try { header = JSON.parse(b64url(parts[0])); claims = JSON.parse(b64url(parts[1])); } catch (e) { claims = null; }
      }
      if (!header || typeof header !== "object" || !claims || typeof claims !== "object") {
        throw KlarnaError("InvalidClientTokenError", "The client token is invalid. Make sure it has not been tampered with in any way.");
      }
      st.token = tok; st.claims = claims; st.base = scriptBase || claims.base_url || null; st.widgets = {}; st.summary = null;
    },
    load: function (a1, a2, a3) {
      var a = args(a1, a2, a3);
      var o = a.options;
      function fail(e) { a.cb({ show_form: false }); throw e; }
      if (!st.token || !a1) fail(KlarnaError("ApplicationNotInitializedError", "The application has not yet been initialized. Call `init` first to initialize it."));
      var container = resolve(o.container);
      if (!container) fail(KlarnaError("InvalidContainerSelectorError", "The container selector is invalid."));
      var many = Array.isArray(o.payment_method_categories);
      var wanted = many ? o.payment_method_categories.slice() : (o.payment_method_category ? [o.payment_method_category] : []);
      if (many && o.instance_id == null) fail(KlarnaError("InstanceIDNotProvidedError", "An instance ID must be provided when the `payment_method_categories` option is used."));
      if (o.instance_id != null && !INSTANCE_ID.test(String(o.instance_id))) fail(KlarnaError("InvalidInstanceIDError", "The instance ID must only contain alphabets, numbers, underscores (_) and hyphens (-)."));
      wanted.forEach(function (c) {
        if (CATEGORIES.indexOf(c) < 0) fail(KlarnaError("PaymentMethodCategoryNotSupportedError", "This payment method category is not supported: " + c));
      });
      if (o.preferred_payment_method != null && METHODS.indexOf(o.preferred_payment_method) < 0) {
        fail(KlarnaError("PreferredPaymentMethodNotSupportedError", "The provided preferred payment method is not supported."));
      }
      ensureCSS();
      post("/browser/load", { data: a.data }).then(function (r) {
        if (r.status !== 200) { a.cb({ show_form: false }); return; }
        st.summary = r.body;
        var offered = r.body.categories.filter(function (x) { return wanted.indexOf(x.identifier) >= 0; });
        // Choice: without a category the widget shows the session's first one.
        if (!wanted.length && r.body.categories.length) offered = [r.body.categories[0]];
        // A category Klarna knows but does not offer for this session or
        // shopper: not shown, and Klarna's answer is show_form false.
        if (!offered.length) { a.cb({ show_form: false }); return; }
        var w = { instanceId: o.instance_id != null ? String(o.instance_id) : null, categories: offered, selected: offered[0].identifier };
        st.widgets[w.instanceId != null ? "#" + w.instanceId : offered[0].identifier] = w;
        draw(container, w, r.body);
        a.cb({ show_form: true });
      }, function () { a.cb({ show_form: false }); });
    },
    authorize: function (a1, a2, a3) {
      var a = args(a1, a2, a3);
      function fail(e) { a.cb({ approved: false, show_form: false }); throw e; }
      if (!loadedAny()) fail(KlarnaError("ApplicationNotLoadedError", "The application has not yet been loaded. Call `load` first to load it."));
      var cat = pick(a.options);
      var known = a.options.instance_id != null ? cat != null : cat != null && Object.keys(st.widgets).some(function (k) {
        return st.widgets[k].categories.some(function (c) { return c.identifier === cat; });
      });
      if (!known) fail(KlarnaError("PaymentMethodCategoryNotSupportedError", "This payment method category is not supported: " + (cat || a.options.instance_id)));
      authorizeFlow("/browser/authorize", a, { payment_method_category: cat }).then(function (r) { a.cb(result(r)); },
        function (e) { console.error(e); a.cb({ approved: false, show_form: false }); });
    },
    reauthorize: function (a1, a2, a3) {
      var a = args(a1, a2, a3);
      function fail(e) { a.cb({ approved: false, show_form: false }); throw e; }
      if (!st.token) fail(KlarnaError("ApplicationNotInitializedError", "The application has not yet been initialized. Call `init` first to initialize it."));
      var cat = pick(a.options);
      if (!cat) fail(KlarnaError("PaymentMethodCategoryNotProvidedError", "A payment method category must be provided."));
      if (CATEGORIES.indexOf(cat) < 0) fail(KlarnaError("PaymentMethodCategoryNotSupportedError", "This payment method category is not supported: " + cat));
      authorizeFlow("/browser/authorize", a, { payment_method_category: cat, reauthorize: true }).then(function (r) {
        var out = result(r); delete out.show_form; a.cb(out);
      }, function (e) { console.error(e); a.cb({ approved: false }); });
    },
    finalize: function (a1, a2, a3) {
      var a = args(a1, a2, a3);
      function fail(e) { a.cb({ approved: false, show_form: false }); throw e; }
      if (!st.token) fail(KlarnaError("ApplicationNotInitializedError", "The application has not yet been initialized. Call `init` first to initialize it."));
      var cat = pick(a.options);
      if (!cat) fail(KlarnaError("PaymentMethodCategoryNotProvidedError", "A payment method category must be provided."));
      if (CATEGORIES.indexOf(cat) < 0) fail(KlarnaError("PaymentMethodCategoryNotSupportedError", "This payment method category is not supported: " + cat));
      authorizeFlow("/browser/finalize", a, { payment_method_category: cat }).then(function (r) { a.cb(result(r)); },
        function (e) { console.error(e); a.cb({ approved: false, show_form: false }); });
    },
    // loadPaymentReview draws the payment method the shopper chose, for a
    // review page (US only, as at Klarna).
    loadPaymentReview: function (a1, a2) {
      var a = args(a1, a2);
      function fail(e) { a.cb({ show_form: false }); throw e; }
      if (!st.token || !a1) fail(KlarnaError("ApplicationNotInitializedError", "The application has not yet been initialized. Call `init` first to initialize it."));
      var container = resolve(a.options.container);
      if (!container) fail(KlarnaError("InvalidContainerSelectorError", "The container selector is invalid."));
      if (!st.claims || st.claims.purchase_country !== "US") fail(KlarnaError("OperationNotSupportedError", "This operation is not supported: loadPaymentReview"));
      ensureCSS();
      post("/browser/load", {}).then(function (r) {
        if (r.status !== 200) { a.cb({ show_form: false }); return; }
        st.summary = r.body;
        var id = r.body.authorized_category || (r.body.categories[0] && r.body.categories[0].identifier);
        var c = r.body.categories.filter(function (x) { return x.identifier === id; })[0];
        if (!c) { a.cb({ show_form: false }); return; }
        container.textContent = "";
        var box = el("div", "ksim-widget ksim-review");
        box.setAttribute("data-testid", "klarna-sim-payment-review");
        box.appendChild(badge(c));
        var txt = el("div", "ksim-widget-text");
        txt.appendChild(el("strong", null, word("paying") + c.name));
        txt.appendChild(el("span", null, money(r.body.order_amount, r.body.purchase_currency, r.body.locale) + (r.body.authorized_category ? " · " + word("approved") : "") + " · " + word("simulator")));
        box.appendChild(txt);
        container.appendChild(box);
        emit("heightChanged", box.offsetHeight);
        a.cb({ show_form: true });
      }, function () { a.cb({ show_form: false }); });
    },
    on: function (name, handler) {
      if (EVENTS.indexOf(name) < 0) throw KlarnaError("EventNotSupportedError", "This event name is not supported: " + name);
      (st.listeners[name] = st.listeners[name] || []).push(handler);
    },
    off: function (name, handler) {
      if (EVENTS.indexOf(name) < 0) throw KlarnaError("EventNotSupportedError", "This event name is not supported: " + name);
      if (!handler) { st.listeners[name] = []; return; }
      st.listeners[name] = (st.listeners[name] || []).filter(function (h) { return h !== handler; });
    }
  };
  window.Klarna = window.Klarna || {};
  window.Klarna.Payments = Payments;
  if (typeof window.klarnaAsyncCallback === "function") setTimeout(window.klarnaAsyncCallback, 0);
})();
