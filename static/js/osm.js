// On-site messaging glue for the product and cart pages. Klarna's library
// (or the simulator's stand-in) fills each <klarna-placement>; this script
// keeps the product page's placement at the price of the chosen quantity:
// it sets data-purchase-amount (minor units) and asks the library to
// redraw with Klarna.OnsiteMessaging.refresh().
//
// The placement is not a live region: the library redraws it whenever it
// likes, and a screen reader would read it out each time. The status
// beside it says the new message once, when the shopper changed the
// quantity and the redrawing has settled.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("[data-osm]");
  if (!boxes.length) return;

  function refresh() {
    var k = window.Klarna;
    if (k && k.OnsiteMessaging && typeof k.OnsiteMessaging.refresh === "function") k.OnsiteMessaging.refresh();
  }
  // text is what the placement says, where the library lets us read it
  // (the stand-in draws in an open shadow root; Klarna's may not).
  function text(el) {
    var t = (el.shadowRoot ? el.shadowRoot.textContent : "") || el.textContent || "";
    return t.replace(/\s+/g, " ").trim();
  }

  Array.prototype.forEach.call(boxes, function (box) {
    var unit = parseInt(box.getAttribute("data-unit-amount"), 10);
    var placement = box.querySelector("klarna-placement");
    var status = box.querySelector("[data-osm-status]");
    var qty = document.getElementById("qty");
    if (!unit || !placement || !qty) return;
    var timer = null, settle = null, said = "";

    // announce says the placement's message once it stopped changing.
    function announce() {
      clearTimeout(settle);
      var tries = 0;
      (function wait() {
        var now = text(placement);
        settle = setTimeout(function () {
          if (text(placement) !== now && ++tries < 10) { wait(); return; }
          if (now && now !== said && status) { said = now; status.textContent = now; }
        }, 300);
      })();
    }

    function update() {
      var n = parseInt(qty.value, 10);
      var max = parseInt(qty.getAttribute("max"), 10) || 99;
      if (!(n >= 1)) return; // mid-typing: keep the last amount
      if (n > max) n = max;
      var amount = String(unit * n);
      if (placement.getAttribute("data-purchase-amount") === amount) return;
      placement.setAttribute("data-purchase-amount", amount);
      refresh();
      announce();
    }

    said = text(placement);
    qty.addEventListener("input", function () {
      // Typing "12" is one change, not two.
      clearTimeout(timer);
      timer = setTimeout(update, 250);
    });
    qty.addEventListener("change", function () { clearTimeout(timer); update(); });
  });
})();
