// Checkout glue: runs Klarna.Payments init, load and authorize, posts the
// authorization token to the shop (with the CSRF token) and follows the
// redirect it gets back. Every outcome Klarna can report gets its own
// message. Amounts never come from here: the server priced the cart.
(function () {
  "use strict";
  var root = document.getElementById("klarna-checkout");
  if (!root) return;
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
    say("Loading Klarna…");
    payButton.disabled = true;
    try {
      Klarna.Payments.load({ container: "#klarna-container-" + category, payment_method_category: category }, {}, function (res) {
        loaded[category] = !!res.show_form;
        if (!res.show_form) {
          say("Klarna cannot offer this payment option for this order. Please choose another.", true);
        } else {
          say("");
        }
        setBusy(false);
      });
    } catch (e) {
      say("Klarna could not be loaded (" + e.name + "). Please reload the page.", true);
    }
  }

  function start() {
    if (started) return;
    started = true;
    try {
      Klarna.Payments.init({ client_token: root.dataset.clientToken });
    } catch (e) {
      say("Klarna could not start (" + e.name + "). Please reload the page.", true);
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
        say("Your order is placed. Taking you to your confirmation…");
        window.location.assign(st.redirect_url);
        return;
      }
      if (tries > 1) {
        setTimeout(function () { watch(waiting, otherwise, tries - 1); }, 1500);
        return;
      }
      say(st.status === "open" ? otherwise : "Your checkout has changed. Reload the page to see where it stands.", true);
      setBusy(false);
    }, function () {
      if (tries > 1) {
        setTimeout(function () { watch(waiting, otherwise, tries - 1); }, 1500);
        return;
      }
      say("We cannot reach the shop. Check your connection, then reload this page: it shows your order if it went through.", true);
      setBusy(false);
    });
  }

  function post(token) {
    say("Placing your order…");
    send(root.dataset.placeUrl, { authorization_token: token }).then(function (res) {
      switch (res.status) {
        case "placed":
        case "in_progress":
          say(res.status === "placed" ? "Order placed. Taking you to your confirmation…" : "Confirming your order…");
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
          watch("Checking with Klarna…", res.message, 12);
          return;
        default:
          watch("Checking your order…", "Something went wrong on our side and no order was made. Press Pay to try again.", 4);
      }
    }).catch(function () {
      watch("We lost the connection to the shop. Checking your order…",
        "No order was made yet. Press Pay to try again: you will not be charged twice.", 8);
    });
  }

  // declined hides Klarna: it must not be offered again for this order.
  function declined(known) {
    root.querySelectorAll(".category").forEach(function (el) { el.hidden = true; });
    payButton.hidden = true;
    say("Klarna could not approve this purchase." + (known ? " No payment was taken." : "") + " Please choose another way to pay, or contact us.", true);
  }

  function handle(res, category) {
    if (res.approved && res.authorization_token) {
      post(res.authorization_token);
      return;
    }
    if (res.approved && res.finalize_required) {
      // Two-step payment: show the order once more on the review page, where
      // the shopper confirms and finalize completes the authorization.
      say("Approved. Taking you to the review page…");
      send("/checkout/review", { payment_method_category: category }).then(function (r) {
        if (r.redirect_url) { window.location.assign(r.redirect_url); return; }
        say(r.message || "Something went wrong on our side. Please try again.", true);
        setBusy(false);
      }, function () {
        say("We could not reach the shop. Nothing was charged; press Pay again.", true);
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
          say("This order is already placed. Taking you to your confirmation…");
          window.location.assign(st.redirect_url);
          return;
        }
        declined(st.status === "open");
      }, function () { declined(false); });
      return;
    }
    if (res.error && res.error.invalid_fields) {
      say("Please correct: " + res.error.invalid_fields.join(", ") + ". Then press Pay again.", true);
      setBusy(false);
      return;
    }
    say("You closed the Klarna window. Nothing was charged; press Pay when you are ready.");
    setBusy(false);
  }

  payButton.addEventListener("click", function () {
    var category = selected();
    if (busy || !category || !loaded[category]) return;
    setBusy(true);
    say("Waiting for Klarna…");
    try {
      if (review) {
        Klarna.Payments.finalize({ payment_method_category: category }, {}, function (res) { handle(res, category); });
      } else {
        // pay_now (direct debit) is a two-step payment: authorize now,
        // finalize on the review page.
        Klarna.Payments.authorize({ payment_method_category: category, auto_finalize: category !== "pay_now" }, {}, function (res) { handle(res, category); });
      }
    } catch (e) {
      say("Klarna could not open (" + e.name + "). Please reload the page.", true);
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
