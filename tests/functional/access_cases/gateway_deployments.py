"""The routes that change a bus and redeploy it, and a company's own meter profiles.

alpha-homes (the first reseller's company) has gateway gw-alpha. Its own reseller: a
change without a body is 400, removing a meter it does not have 404, redeploying 200,
a profile without a model 400, its profile list 200; another reseller gets 404 for the
company. Company users, revoked keys and anonymous callers never reach them.
"""

from __future__ import annotations

from .common import ANON, FORGED, Cases

_METER = "/v1/reseller/companies/{company_id}/gateways/{gateway_id}/meters/{meter_id}"
_DEPLOY = "/v1/reseller/companies/{company_id}/gateways/{gateway_id}/deployment"
_PROFILES = "/v1/reseller/companies/{company_id}/meter-profiles"
_CO = "/v1/reseller/companies/alpha-homes"


def _case(own: int) -> dict[str, int]:
    return {
        "reseller": own,
        "other_reseller": 404,
        "revoked_key": 403,
        "admin": 403,
        "other_company_admin": 403,
        "other_tenant": 403,
        ANON: 401,
        FORGED: 403,
    }


CASES: Cases = {
    ("PATCH", _METER): (f"{_CO}/gateways/gw-alpha/meters/no-such-meter", _case(400)),
    ("DELETE", _METER): (f"{_CO}/gateways/gw-alpha/meters/no-such-meter", _case(404)),
    ("POST", _DEPLOY): (f"{_CO}/gateways/gw-alpha/deployment", _case(200)),
    ("PUT", _PROFILES + "/{name}"): (f"{_CO}/meter-profiles/acme_x", _case(400)),
    ("GET", _PROFILES): (f"{_CO}/meter-profiles", _case(200)),
}
