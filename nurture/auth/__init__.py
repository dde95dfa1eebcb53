"""Who may use Nurture: API keys for the JSON API (created with a random secret, shown
once, stored only as a hash; ``apikeys``)."""

from nurture.auth.apikeys import create_api_key, list_api_keys, revoke_api_key, verify_api_key

__all__ = ["create_api_key", "list_api_keys", "revoke_api_key", "verify_api_key"]
