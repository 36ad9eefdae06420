/* Klarna on-site messaging stand-in, served by the Klarna simulator.
 * Same surface as Klarna's web SDK https://js.klarna.com/web-sdk/v1/klarna.js
 * for on-site messaging: the script tag carries data-client-id (and
 * optionally data-environment); every <klarna-placement data-key
 * data-locale data-purchase-amount> is drawn in the tag's locale, and
 * window.Klarna.OnsiteMessaging.refresh() draws them again after the page
 * changed an amount. Like Klarna's, it draws into a shadow root whose parts
 * (osm-container, osm-message) can be styled with ::part. It is not Klarna:
 * the message is made up here from the amount.
 *
 * Choice: the instalment is the amount divided by the number of payments,
 * rounded up to the minor unit (the last payment is then the smaller one);
 * Klarna does not document its rounding. The counts and minimum amounts
 * below are plausible, not Klarna's terms: Pay in 3 in Europe, Pay in 4 in
 * the United States and Australia, and below the minimum "pay in 30 days". */
(function () {
  "use strict";
  if (window.Klarna && window.Klarna.OnsiteMessaging && window.Klarna.OnsiteMessaging.__simulator) return;

  var script = document.currentScript;
  if (!script) {
    var list = document.querySelectorAll("script[src]");
    for (var i = 0; i < list.length; i++) if (/\/web-sdk\/v1\/klarna\.js([?#]|$)/.test(list[i].src)) script = list[i];
  }
  var base = script && script.src ? script.src.replace(/\/web-sdk\/v1\/klarna\.js([?#].*)?$/, "") : "";
  var clientID = script ? script.getAttribute("data-client-id") : null;

  // Per purchase country: currency, number of interest-free payments, and
  // the smallest amount (minor units) they are offered for.
  var COUNTRIES = {
    GB: ["GBP", 3, 3000], SE: ["SEK", 3, 30000], DE: ["EUR", 3, 3000], NL: ["EUR", 3, 3000],
    AT: ["EUR", 3, 3000], FI: ["EUR", 3, 3000], DK: ["DKK", 3, 30000], NO: ["NOK", 3, 30000],
    BE: ["EUR", 3, 3000], FR: ["EUR", 3, 3000], ES: ["EUR", 3, 3000], IT: ["EUR", 3, 3000],
    IE: ["EUR", 3, 3000], PL: ["PLN", 3, 15000], PT: ["EUR", 3, 3000], CH: ["CHF", 3, 3000],
    CZ: ["CZK", 3, 75000], GR: ["EUR", 3, 3000],
    US: ["USD", 4, 3500], CA: ["CAD", 4, 5000], MX: ["MXN", 4, 50000], AU: ["AUD", 4, 3500], NZ: ["NZD", 4, 3500]
  };
  // The words, by language; English for the rest.
  var WORDS = {
    en: { parts: "Pay in {n} interest-free payments of {amount}.", later: "Pay in 30 days, interest-free." },
    sv: { parts: "Dela upp i {n} räntefria betalningar på {amount}.", later: "Betala om 30 dagar, räntefritt." },
    de: { parts: "Bezahle in {n} zinsfreien Raten von je {amount}.", later: "Bezahle in 30 Tagen, ohne Zinsen." },
    nl: { parts: "Betaal in {n} renteloze termijnen van {amount}.", later: "Betaal binnen 30 dagen, zonder rente." }
  };

  // money formats integer minor units without floating point arithmetic
  // on the amount itself.
  function money(minor, currency, locale) {
    var digits = 2;
    try { digits = new Intl.NumberFormat("en", { style: "currency", currency: currency }).resolvedOptions().maximumFractionDigits; } catch (e) {}
    var s = String(minor);
    while (s.length <= digits) s = "0" + s;
    var dec = digits ? s.slice(0, s.length - digits) + "." + s.slice(s.length - digits) : s;
    try { return new Intl.NumberFormat(locale, { style: "currency", currency: currency }).format(dec); }
    catch (e) { return dec + " " + currency; }
  }

  // message is what a placement says for an amount in a locale, or null
  // when Klarna would show nothing (unknown locale, no amount).
  function message(locale, amount) {
    var m = /^([a-z]{2})-([A-Z]{2})$/.exec(locale || "");
    if (!m || !COUNTRIES[m[2]] || !(amount >= 0)) return null;
    var c = COUNTRIES[m[2]], w = WORDS[m[1]] || WORDS.en;
    if (amount < c[2]) return w.later;
    var each = Math.ceil(amount / c[1]);
    return w.parts.replace("{n}", c[1]).replace("{amount}", money(each, c[0], locale));
  }

  function draw(el) {
    var key = el.getAttribute("data-key"), locale = el.getAttribute("data-locale");
    var raw = el.getAttribute("data-purchase-amount");
    var amount = raw == null || raw === "" ? 0 : Number(raw);
    var root = el.shadowRoot || el.attachShadow({ mode: "open" });
    root.textContent = "";
    if (!key || !locale || !/^\d+$/.test(raw == null ? "0" : String(raw))) {
      console.warn("Klarna on-site messaging (simulator): a placement needs data-key, data-locale and an integer data-purchase-amount in minor units", el);
      return;
    }
    var text = message(locale, amount);
    if (text == null) return;
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = base + "/web-sdk/v1/osm.css";
    root.appendChild(css);
    var box = document.createElement("div");
    box.setAttribute("part", "osm-container");
    box.className = "osm";
    box.lang = locale.slice(0, 2);
    var badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "Klarna.";
    var msg = document.createElement("span");
    msg.setAttribute("part", "osm-message");
    msg.textContent = text;
    var sim = document.createElement("small");
    sim.className = "sim";
    sim.setAttribute("aria-hidden", "true");
    sim.textContent = "sim";
    box.appendChild(badge);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(msg);
    box.appendChild(sim);
    root.appendChild(box);
  }

  function refresh() {
    if (!clientID) {
      console.error("Klarna on-site messaging (simulator): the script tag has no data-client-id");
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("klarna-placement"), draw);
  }

  window.Klarna = window.Klarna || {};
  window.Klarna.OnsiteMessaging = { __simulator: true, refresh: refresh, message: message };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", refresh);
  else refresh();
})();
