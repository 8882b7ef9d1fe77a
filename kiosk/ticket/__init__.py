"""The printed queue ticket: what it says (:class:`Ticket`) and how it looks (:mod:`.render`).

Printing it is a driver's job (:mod:`drivers.printer`); the application layer joins the two.
"""

from kiosk.ticket.model import Ticket, TicketError

__all__ = ["Ticket", "TicketError"]
