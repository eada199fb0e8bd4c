"""Instalment plans: policy limits, offers, proposals, review, agreement and lifecycle."""
