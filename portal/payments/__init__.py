"""Online payments: providers (Stripe, sandbox), idempotent posting, webhooks, autopay, refunds."""
