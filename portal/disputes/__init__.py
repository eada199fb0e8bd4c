"""Disputes and complaints: raise, route, work, resolve, and hold collection meanwhile."""
