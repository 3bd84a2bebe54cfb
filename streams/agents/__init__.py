"""Faust agents. Each is thin: decode, call the domain, send, store."""
