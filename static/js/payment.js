// Stripe Payment Element on the portal's own page: card data goes straight to Stripe.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.key, { locale: form.dataset.locale || "auto" });
  var elements = stripe.elements({ clientSecret: form.dataset.secret });
  var element = elements.create("payment");
  element.mount("#payment-element");
  var message = document.getElementById("payment-message");
  var button = document.getElementById("payment-submit");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;  // one click, one confirmation
    var params = { elements: elements, confirmParams: { return_url: form.dataset.return } };
    var confirm = form.dataset.mode === "setup" ? stripe.confirmSetup(params) : stripe.confirmPayment(params);
    confirm.then(function (result) {
      if (result.error) {
        message.textContent = result.error.message;
        message.hidden = false;
        button.disabled = false;
      }
    });
  });
}());
