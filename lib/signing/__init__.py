"""The shared signing library: TC3-HMAC-SHA256, v1 HmacSHA1/HmacSHA256 and COS request signatures.

Pure and stdlib-only; every function takes its inputs, the timestamp included, and returns strings.
"""

from lib.signing.cos import cos_authorization
from lib.signing.tc3 import tc3_headers
from lib.signing.v1 import flatten_params, v1_params

__all__ = ["cos_authorization", "flatten_params", "tc3_headers", "v1_params"]
