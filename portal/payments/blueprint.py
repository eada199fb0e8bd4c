"""The payments blueprint; routes, autopay_routes and staff_routes attach their views to it,
and `portal.payments.web` imports all three for the app factory."""
from flask import Blueprint

bp = Blueprint("payments", __name__)
# The Stripe pages load Stripe.js and its frames; only they widen the content security policy.
STRIPE_CSP = {"script_src": ["https://js.stripe.com"],
              "frame_src": ["https://js.stripe.com", "https://hooks.stripe.com"],
              "connect_src": ["https://api.stripe.com"]}
