"""The baresip agent type: an independent SIP/SRTP stack (Debian's baresip 1.0)."""
