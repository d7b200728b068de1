"""Tencent Cloud API 3.0 client: credentials chain, endpoints, rate limits, retries, typed errors."""

from lib.client.api import ApiClient
from lib.client.credentials import Credentials, resolve_credentials
from lib.client.ratelimit import RateLimiter
from lib.client.retry import RetryPolicy

__all__ = ["ApiClient", "Credentials", "RateLimiter", "RetryPolicy", "resolve_credentials"]
