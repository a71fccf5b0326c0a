"""Signing in to the inbox from a test client: the test kit's helpers (relaydesk_testing.clients)."""

from relaydesk_testing.clients import csrf_from, form_post, sign_in  # noqa: F401
