"""Breathing space and vulnerability: staff record a period in which contact, interest, fees
or escalation freeze for a cardholder, as each profile's `care` section says."""
