"""Collections work: account assignment, contact log and promises to pay, KPI reports."""
