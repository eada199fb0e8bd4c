"""Exports for the issuer's core system: agreed plans and posted payments as CSV files."""
