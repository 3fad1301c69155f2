"""Flask extensions, created unbound and initialised in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from elevator_safety.db import Base


def client_address() -> str:
    """Return the client's address (the proxy sets it via ProxyFix in production)."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=client_address, default_limits=[])

if TYPE_CHECKING:
    # mypy cannot see Flask-SQLAlchemy's generated model class; it is a subclass of Base.
    Model = Base
else:
    Model = db.Model
