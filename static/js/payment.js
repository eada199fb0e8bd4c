// Stripe Payment Element on the portal's own page: card data goes straight to Stripe.
// Before a payment is confirmed the portal re-checks what is still owed (data-recheck): if the
// amount had to change, the page shows the new one and the cardholder presses the button again.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.key, { locale: form.dataset.locale || "auto" });
  var elements = stripe.elements({ clientSecret: form.dataset.secret });
  var element = elements.create("payment");
  element.mount("#payment-element");
  var message = document.getElementById("payment-message");
  var notice = document.getElementById("payment-notice");
  var amount = document.getElementById("payment-amount");
  var button = document.getElementById("payment-submit");

  function show(box, text) {
    box.textContent = text;
    box.hidden = false;
  }

  function failed(text) {
    show(message, text || form.dataset.error);
    button.disabled = false;
    return false;
  }

  // Resolves true when the payment may be confirmed as it stands.
  function recheck() {
    if (!form.dataset.recheck) { return Promise.resolve(true); }
    var body = new FormData();
    body.append("csrf_token", form.elements.namedItem("csrf_token").value);
    return fetch(form.dataset.recheck, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; });
    }).then(function (answer) {
      if (answer.outcome === "unchanged") { return true; }
      if (answer.redirect) {
        window.location.assign(answer.redirect);
        return false;
      }
      if (answer.outcome !== "changed") { return failed(answer.message); }
      amount.textContent = answer.amount_text;
      button.textContent = answer.button;
      show(notice, answer.message);
      var updated = elements.fetchUpdates ? elements.fetchUpdates() : Promise.resolve();
      return updated.then(function () {
        button.disabled = false;
        notice.focus();
        return false;
      });
    }, function () { return failed(); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;  // one click, one confirmation
    message.hidden = true;
    recheck().then(function (go) {
      if (!go) { return; }
      var params = { elements: elements, confirmParams: { return_url: form.dataset.return } };
      var confirm = form.dataset.mode === "setup" ? stripe.confirmSetup(params) : stripe.confirmPayment(params);
      confirm.then(function (result) {
        if (result.error) { failed(result.error.message); }
      });
    });
  });
}());
