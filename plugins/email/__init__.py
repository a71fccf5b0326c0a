"""Email channel plugin for Relaydesk.

For now only the parser lives here (`plugins.email.parse`): raw RFC 5322 bytes in, a
`ParsedEmail` and a core `InboundMessage` out. IMAP polling and SMTP sending come later.
"""
