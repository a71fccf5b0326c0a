"""The loopback HTTP server moved into the test kit (relaydesk_testing.loopback)."""

from relaydesk_testing.loopback import HttpFake, LoopbackServer, Recorded, Reply, Scripted  # noqa: F401
