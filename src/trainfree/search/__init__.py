"""Search: HNAS criterion (and search strategies)."""
