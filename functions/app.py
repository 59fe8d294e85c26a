"""Powerlet's Chalice app: registration only. Handlers live in chalicelib/api."""

from chalice import Chalice

from chalicelib.api.authorizer import auth_bp
from chalicelib.api.routes_portfolio import bp as portfolio_bp

app = Chalice(app_name="powerlet")
app.register_blueprint(auth_bp)
app.register_blueprint(portfolio_bp)
