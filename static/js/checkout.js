// Checkout glue: runs Klarna.Payments init, load and authorize, posts the
// authorization token to the shop (with the CSRF token) and follows the
// redirect it gets back. Every outcome Klarna can report gets its own
// message, in the page's language: the words come from the server in the
// JSON block #checkout-messages. Amounts never come from here: the server
// priced the cart.
(function () {
  "use strict";
  var root = document.getElementById("klarna-checkout");
  if (!root) return;
  var words = {};
  try { words = JSON.parse(document.getElementById("checkout-messages").textContent) || {}; } catch (e) { words = {}; }
  // t is a message by key, with {name} and {fields} filled in.
  function t(key, vars) {
    var s = words[key] || key;
    for (var k in vars || {}) s = s.split("{" + k + "}").join(vars[k]);
    return s;
  }
  var payButton = document.getElementById("pay-button");
  var status = document.getElementById("pay-status");
  var radios = root.querySelectorAll("input[name=payment_method_category]");
  var loaded = {};
  var busy = false;
  var started = false;
  // On the review page Klarna has approved the method and waits for
  // Klarna.Payments.finalize; elsewhere the button authorizes.
  var review = root.dataset.mode === "review";

  function say(msg, isError) {
    status.textContent = msg;
    status.classList.toggle("is-error", !!isError);
  }
  function selected() {
    if (review) return root.dataset.category;
    var r = root.querySelector("input[name=payment_method_category]:checked");
    return r ? r.value : null;
  }
  function setBusy(b) {
    busy = b;
    payButton.disabled = b || !loaded[selected()];
    payButton.setAttribute("aria-busy", b ? "true" : "false");
  }

  function load(category) {
    if (loaded[category] !== undefined) { setBusy(false); return; }
    say(t("loading"));
    payButton.disabled = true;
    try {
      Klarna.Payments.load({ container: "#klarna-container-" + category, payment_method_category: category }, {}, function (res) {
        loaded[category] = !!res.show_form;
        if (!res.show_form) {
          say(t("cannot_offer"), true);
        } else {
          say("");
        }
        setBusy(false);
      });
    } catch (e) {
      say(t("load_failed", { name: e.name }), true);
    }
  }

  function start() {
    if (started) return;
    started = true;
    try {
      Klarna.Payments.init({ client_token: root.dataset.clientToken });
    } catch (e) {
      say(t("start_failed", { name: e.name }), true);
      return;
    }
    Array.prototype.forEach.call(radios, function (r) {
      r.addEventListener("change", function () { if (r.checked) load(r.value); });
    });
    if (selected()) load(selected());
  }

  function send(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return { status: "error" }; });
    });
  }

  // status asks the shop what became of this checkout. It only reads.
  function fetchStatus() {
    return fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); });
  }

  // watch follows the checkout for a while after an answer that leaves the
  // outcome open (a lost request, an approval the shop could not match):
  // Klarna's callback may still place the order. It never claims that
  // nothing was charged unless the shop says there is no order.
  function watch(waiting, otherwise, tries) {
    say(waiting);
    fetchStatus().then(function (st) {
      if (st.status === "placed" || st.status === "placing") {
        say(t("placed_redirect"));
        window.location.assign(st.redirect_url);
        return;
      }
      if (tries > 1) {
        setTimeout(function () { watch(waiting, otherwise, tries - 1); }, 1500);
        return;
      }
      say(st.status === "open" ? otherwise : t("changed"), true);
      setBusy(false);
    }, function () {
      if (tries > 1) {
        setTimeout(function () { watch(waiting, otherwise, tries - 1); }, 1500);
        return;
      }
      say(t("no_connection"), true);
      setBusy(false);
    });
  }

  function post(token) {
    say(t("placing"));
    send(root.dataset.placeUrl, { authorization_token: token }).then(function (res) {
      switch (res.status) {
        case "placed":
        case "in_progress":
          say(res.status === "placed" ? t("order_placed") : t("confirming"));
          window.location.assign(res.redirect_url);
          return;
        case "cart_changed":
        case "failed":
          say(res.message, true);
          window.location.assign(res.redirect_url);
          return;
        case "reauthorize":
        case "expired":
        case "unavailable":
          say(res.message, true);
          setBusy(false);
          return;
        case "unconfirmed":
          watch(t("checking_klarna"), res.message, 12);
          return;
        default:
          watch(t("checking"), t("no_order"), 4);
      }
    }).catch(function () {
      watch(t("lost_connection"), t("no_order_yet"), 8);
    });
  }

  // declined hides Klarna: it must not be offered again for this order.
  function declined(known) {
    root.querySelectorAll(".category").forEach(function (el) { el.hidden = true; });
    payButton.hidden = true;
    say(known ? t("declined_known") : t("declined"), true);
  }

  function handle(res, category) {
    if (res.approved && res.authorization_token) {
      post(res.authorization_token);
      return;
    }
    if (res.approved && res.finalize_required) {
      // Two-step payment: show the order once more on the review page, where
      // the shopper confirms and finalize completes the authorization.
      say(t("approved_review"));
      send("/checkout/review", { payment_method_category: category }).then(function (r) {
        if (r.redirect_url) { window.location.assign(r.redirect_url); return; }
        say(r.message || t("error"), true);
        setBusy(false);
      }, function () {
        say(t("no_shop"), true);
        setBusy(false);
      });
      return;
    }
    if (!res.approved && !res.show_form) {
      // Klarna refused. That is also what the widget answers for a session
      // that already became an order (Klarna's callback placed it while
      // this page's request was lost): ask the shop before saying anything
      // about payment.
      fetchStatus().then(function (st) {
        if (st.status === "placed" || st.status === "placing") {
          say(t("already_placed"));
          window.location.assign(st.redirect_url);
          return;
        }
        declined(st.status === "open");
      }, function () { declined(false); });
      return;
    }
    if (res.error && res.error.invalid_fields) {
      say(t("correct_fields", { fields: res.error.invalid_fields.join(", ") }), true);
      setBusy(false);
      return;
    }
    say(t("closed"));
    setBusy(false);
  }

  payButton.addEventListener("click", function () {
    var category = selected();
    if (busy || !category || !loaded[category]) return;
    setBusy(true);
    say(t("waiting"));
    try {
      if (review) {
        Klarna.Payments.finalize({ payment_method_category: category }, {}, function (res) { handle(res, category); });
      } else {
        // pay_now (direct debit) is a two-step payment: authorize now,
        // finalize on the review page.
        Klarna.Payments.authorize({ payment_method_category: category, auto_finalize: category !== "pay_now" }, {}, function (res) { handle(res, category); });
      }
    } catch (e) {
      say(t("open_failed", { name: e.name }), true);
      setBusy(false);
    }
  });

  // The widget script may load before or after this one.
  if (window.Klarna && window.Klarna.Payments) {
    start();
  } else {
    var previous = window.klarnaAsyncCallback;
    window.klarnaAsyncCallback = function () {
      if (typeof previous === "function") previous();
      start();
    };
  }
})();
