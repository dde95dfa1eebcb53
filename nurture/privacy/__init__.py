"""Privacy: the data subject's rights and choices.

- ``rights``: export everything held about a person, erase it, purge raw tracking data
  and old webhook deliveries after their retention.
- ``unsubscribe``: by the token of a message the person received (RFC 8058 one-click, the
  confirmation page); ``unsubscribe_mail``: mailto unsubscribes.
- ``double_opt_in``: consent given through the API stays pending until confirmed.
- ``preferences``: the preference centre's topics and opting out of one.
"""

from nurture.privacy.double_opt_in import confirm, request_confirmations
from nurture.privacy.rights import erase_lead, export_lead, purge_expired
from nurture.privacy.unsubscribe import unsubscribe_by_token

__all__ = [
    "confirm",
    "erase_lead",
    "export_lead",
    "purge_expired",
    "request_confirmations",
    "unsubscribe_by_token",
]
