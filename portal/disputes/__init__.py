"""Disputes and complaints: raise, route, work, resolve, and hold collection meanwhile.

Importing the package registers the collection-hold provider with the escalation-pause
registry, so the nightly run and the timeline see open contesting disputes.
"""
from portal.disputes import holds  # noqa: F401  (registers the pause provider)
