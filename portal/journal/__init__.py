"""The journal between the portal and the issuer's core system (see docs/money.md)."""
