"""Policy profiles (`cn`, `us`, ...): versioned, validated JSON documents edited by `risk`."""
