"""Who may use Nurture, and what they may do.

- ``apikeys``: keys for the JSON API (a random secret shown once, stored only as a hash).
- ``roles``: the role → permissions table (admin, marketer, sales, sales-manager, viewer).
- ``passwords``: argon2id hashing and the password policy.
- ``users``: the accounts of the web app's users: create, change role, disable, set a
  password, sign in; every change in the audit log.
"""

from nurture.auth.apikeys import create_api_key, list_api_keys, revoke_api_key, verify_api_key
from nurture.auth.roles import PERMISSIONS, ROLES, may
from nurture.auth.users import UserError, authenticate, create_user, find_user

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "UserError",
    "authenticate",
    "create_api_key",
    "create_user",
    "find_user",
    "list_api_keys",
    "may",
    "revoke_api_key",
    "verify_api_key",
]
