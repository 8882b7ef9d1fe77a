"""Why an eligibility backend could not give an answer.

Backends return an ``EligibilityResult`` for every answer the gateway gives; they raise these
only when there is no answer. ``GatewayUnavailable`` is the one the check-in pipeline catches
to fall back to the offline cache; the others point at something an administrator must fix.
"""

from __future__ import annotations


class EligibilityError(Exception):
    """Base class: no eligibility answer could be obtained."""


class GatewayUnavailable(EligibilityError):
    """The gateway did not answer in time or at all: connect/read timeout, connection refused,
    5xx after the retries, or the circuit breaker is open. The caller falls back to the cache."""


class GatewayDeadlineExceeded(GatewayUnavailable):
    """The gateway was still answering when the look-up's total deadline passed (a dripped
    body or headers, an endless stream): the call was cut off, the caller uses the cache."""


class GatewayTlsError(GatewayUnavailable):
    """The TLS handshake with the gateway failed (an untrusted or mismatched certificate):
    reachable, but not to be trusted. The cache answers; an administrator must fix the CA
    bundle or the address, so it is logged at ERROR and shown as what it is."""


class GatewayAuthError(EligibilityError):
    """The gateway rejected the kiosk's credentials, even after renewing the token once."""


class GatewayProtocolError(EligibilityError):
    """The gateway answered with something that is not the documented shape (bad JSON, missing
    fields, unexpected types)."""


class ConfigurationError(EligibilityError):
    """The kiosk is not configured to ask the gateway; the message names the missing setting
    (e.g. the environment variable)."""


class GatewayAnswerTooLarge(GatewayProtocolError):
    """The gateway's answer passed the size cap (after decompression; a gzip bomb is refused,
    not inflated), so it was not read to the end."""
