"""Who is calling: token verification against the user pool's JWKS, and the
principal (company, user, role, scope) every route works with."""
