"""Where an API 3.0 request goes: site domains, regional hosts, the billing domains, the endpoint override."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from lib.errors import ConfigError, RequestError

SITES: dict[str, str] = {
    "cn": "tencentcloudapi.com",  # China site: nearest region
    "intl": "intl.tencentcloudapi.com",  # international site
}
REGIONAL_DOMAIN = "tencentcloudapi.com"  # <service>.<region>.tencentcloudapi.com on both sites
DEFAULT_PORTS = {"http": 80, "https": 443}

# The 17 domains of the billing "Request Structure" page (seed 000), in the page's order:
# (hosted region as the page names it, region id or None for nearest-region access, host).
BILLING_DOMAINS: tuple[tuple[str, str | None, str], ...] = (
    ("Local access region (nearest; non-financial zones only)", None, "billing.intl.tencentcloudapi.com"),
    ("South China (Guangzhou)", "ap-guangzhou", "billing.ap-guangzhou.tencentcloudapi.com"),
    ("East China (Shanghai)", "ap-shanghai", "billing.ap-shanghai.tencentcloudapi.com"),
    ("East China (Nanjing)", "ap-nanjing", "billing.ap-nanjing.tencentcloudapi.com"),
    ("North China (Beijing)", "ap-beijing", "billing.ap-beijing.tencentcloudapi.com"),
    ("Southwest China (Chengdu)", "ap-chengdu", "billing.ap-chengdu.tencentcloudapi.com"),
    ("Southwest China (Chongqing)", "ap-chongqing", "billing.ap-chongqing.tencentcloudapi.com"),
    ("Hong Kong, Macao, Taiwan (Hong Kong, China)", "ap-hongkong", "billing.ap-hongkong.tencentcloudapi.com"),
    ("Southeast Asia (Singapore)", "ap-singapore", "billing.ap-singapore.tencentcloudapi.com"),
    ("Southeast Asia (Jakarta)", "ap-jakarta", "billing.ap-jakarta.tencentcloudapi.com"),
    ("Southeast Asia (Bangkok)", "ap-bangkok", "billing.ap-bangkok.tencentcloudapi.com"),
    ("Northeast Asia (Seoul)", "ap-seoul", "billing.ap-seoul.tencentcloudapi.com"),
    ("Northeast Asia (Tokyo)", "ap-tokyo", "billing.ap-tokyo.tencentcloudapi.com"),
    ("U.S. East Coast (Virginia)", "na-ashburn", "billing.na-ashburn.tencentcloudapi.com"),
    ("U.S. West Coast (Silicon Valley)", "na-siliconvalley", "billing.na-siliconvalley.tencentcloudapi.com"),
    ("South America (Sao Paulo)", "sa-saopaulo", "billing.sa-saopaulo.tencentcloudapi.com"),
    ("Europe (Frankfurt)", "eu-frankfurt", "billing.eu-frankfurt.tencentcloudapi.com"),
)
BILLING_REGIONS: frozenset[str] = frozenset(region for _, region, _ in BILLING_DOMAINS if region)


@dataclass(frozen=True)
class Target:
    """One request destination: the URL to send to and the ``Host`` value that is both sent and signed."""

    url: str  # scheme://netloc/path, without a query string
    host: str  # host[:port] exactly as the Host header carries it

    @property
    def scheme(self) -> str:
        return self.url.split(":", 1)[0]


def check_site(site: str) -> str:
    """``cn`` or ``intl`` (case-insensitive); anything else is a configuration error naming BUDGET_SITE."""
    normalised = (site or "cn").strip().lower()
    if normalised not in SITES:
        raise ConfigError(f"must be one of {', '.join(sorted(SITES))}, not {site!r}", field="BUDGET_SITE")
    return normalised


def api_host(service: str, *, site: str = "cn", region: str | None = None) -> str:
    """``<service>.<site domain>`` (nearest region), or ``<service>.<region>.tencentcloudapi.com``."""
    check_token("service", service)
    if region:
        check_token("region", region)
        if service == "billing" and region not in BILLING_REGIONS:
            known = ", ".join(sorted(BILLING_REGIONS))
            raise RequestError(f"billing has no regional domain for {region!r}; known regions: {known}")
        return f"{service}.{region}.{REGIONAL_DOMAIN}"
    return f"{service}.{SITES[check_site(site)]}"


def parse_override(endpoint: str) -> Target:
    """A base URL (``http://127.0.0.1:8080``, ``https://proxy.example/tc``) or a bare ``host[:port]`` (HTTPS).

    The Host header (and the signed host) becomes the override's ``host[:port]``; a default port is
    dropped, as an HTTP client would send it.
    """
    text = endpoint.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(f"not an http(s) base URL: {endpoint!r}", field="BUDGET_API_ENDPOINT")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError("the base URL takes no query, fragment or user info", field="BUDGET_API_ENDPOINT")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"bad port in {endpoint!r}", field="BUDGET_API_ENDPOINT") from exc
    hostname = parts.hostname
    if not hostname.isascii():
        raise ConfigError("write the host name in its ASCII (punycode) form", field="BUDGET_API_ENDPOINT")
    if ":" in hostname:  # IPv6 literal
        hostname = f"[{hostname}]"
    host = hostname if port in (None, DEFAULT_PORTS[parts.scheme]) else f"{hostname}:{port}"
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return Target(url=f"{parts.scheme}://{host}{path}", host=host)


def resolve(
    service: str,
    *,
    site: str = "cn",
    region: str | None = None,
    regional: bool = False,
    override: Target | None = None,
) -> Target:
    """The destination of one call: the override if any, else the site's (or the region's) domain."""
    if override is not None:
        check_token("service", service)
        return override
    host = api_host(service, site=site, region=region if regional else None)
    return Target(url=f"https://{host}/", host=host)


def check_token(what: str, value: str) -> None:
    """Service, action, version and region travel in the host or in headers: plain ASCII, no spaces."""
    if not value or not value.isascii() or not all(c.isalnum() or c in "-_." for c in value):
        raise RequestError(f"invalid {what} {value!r}: expected ASCII letters, digits, '-', '_' or '.'")
