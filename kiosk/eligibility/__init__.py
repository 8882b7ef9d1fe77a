"""Health-insurance (BHYT) eligibility: the contract and the gateway clients.

``base`` holds the types every backend speaks, ``errors`` why no answer could be had,
``codes`` what each BHXH ``maKetQua`` means for staff, ``bhxh`` the BHXH gateway client,
``fhir`` the FHIR R4 adapter and ``breaker`` the circuit breaker they share.
"""

from kiosk.eligibility.base import (
    EligibilityBackend,
    EligibilityResult,
    EligibilityStatus,
    Person,
    ask_staff,
)
from kiosk.eligibility.errors import (
    ConfigurationError,
    EligibilityError,
    GatewayAuthError,
    GatewayProtocolError,
    GatewayUnavailable,
)

__all__ = [
    "ConfigurationError",
    "EligibilityBackend",
    "EligibilityError",
    "EligibilityResult",
    "EligibilityStatus",
    "GatewayAuthError",
    "GatewayProtocolError",
    "GatewayUnavailable",
    "Person",
    "ask_staff",
]
