"""Why one delivery to the hospital system (HIS) did not count as delivered.

``HisUrlRefused`` is raised when an outbox is made for an address it will not send to. The
others the outbox never raises to its caller: each becomes the row's ``last_status`` (its
class name), the row is retried later with backoff (or parked after ``max_attempts``), and
the drain report counts it as failed. They are typed so the row's status, the logs and a
staff screen say what happened, in the offline store's words, without any HTTP text.
"""

from __future__ import annotations


class HisDeliveryError(Exception):
    """Base: the HIS did not give an answer the outbox can count as delivered."""


class HisDeadlineExceeded(HisDeliveryError):
    """The HIS was still answering when the delivery's total deadline passed (a dripped
    answer, headers that never end): the call was cut off and the drain stops, as for an
    unreachable HIS."""


class HisAnswerTooLarge(HisDeliveryError):
    """The HIS's answer passed the size cap (after decompression; a gzip bomb is refused,
    not inflated): not read to the end, so not counted as delivered."""


class HisUrlRefused(HisDeliveryError):
    """The HIS address is not ``https`` and its host is not this machine (and the lab switch
    ``allow_insecure_http`` is off): check-ins would travel in clear, so nothing is sent."""


class HisTlsError(HisDeliveryError):
    """The TLS handshake with the HIS failed (an untrusted or mismatched certificate), or the
    configured CA bundle / client certificate does not load: not an unreachable HIS but
    configuration to fix; logged at ERROR, the drain stops (raised when the outbox is made,
    for files that do not load)."""


class HisAuthRefused(HisDeliveryError):
    """The HIS answered 401/403: it refused the kiosk's token (``$CCCD_KIOSK_HIS_TOKEN``).
    Logged at ERROR; the check-in stays queued."""


class HisAnswerUndecodable(HisDeliveryError):
    """The HIS's answer uses a content encoding the outbox does not decode with a bound, or
    its compressed data is corrupt."""
