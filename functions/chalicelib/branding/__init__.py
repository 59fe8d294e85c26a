"""White-label brands: the config schema, resolution of a request's brand, the
theme stylesheet and logos. Brand values are data; see docs/brands.md."""

from .errors import BrandError, DomainTakenError, InvalidBrandError, LogoRejectedError
from .resolution import DEFAULT, ResolvedBrand, resolve
from .schema import PLATFORM_DEFAULT, BrandColours, BrandConfig, parse_brand

__all__ = [
    "DEFAULT",
    "PLATFORM_DEFAULT",
    "BrandColours",
    "BrandConfig",
    "BrandError",
    "DomainTakenError",
    "InvalidBrandError",
    "LogoRejectedError",
    "ResolvedBrand",
    "parse_brand",
    "resolve",
]
