"""elevator-safety: safety-compliance records of elevators."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from elevator_safety import config as default_config


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says how to fix it."""


def _database_url(app: Flask) -> str:
    url = os.environ.get("ELEVATOR_SAFETY_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(Path(app.instance_path) / "elevator_safety.sqlite")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the application."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(default_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(app)
    if os.environ.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = os.environ["REDIS_URL"]
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("ELEVATOR_SAFETY")
    else:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _refuse_unsafe_production(app)

    from elevator_safety import errors, security, templating
    from elevator_safety.db import configure_postgres
    from elevator_safety.extensions import babel, csrf, db, limiter, login_manager, migrate
    from elevator_safety.i18n import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        configure_postgres(db.engine, jit=bool(app.config["DATABASE_JIT"]))
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from elevator_safety import audit, health, i18n, views
    from elevator_safety.admin.views import bp as admin_bp
    from elevator_safety.auth import cli as auth_cli
    from elevator_safety.auth import views as auth_views
    from elevator_safety.bench.cli import bench_cli
    from elevator_safety.compliance import models as compliance_models
    from elevator_safety.compliance import override_views as rule_values_views
    from elevator_safety.compliance import views as compliance_views
    from elevator_safety.dashboards import home as dashboards_home
    from elevator_safety.dashboards import views as dashboards_views
    from elevator_safety.demo import cli as demo_cli
    from elevator_safety.desk import models as desk_models
    from elevator_safety.desk import views as desk_views
    from elevator_safety.desk.cli import desk_cli
    from elevator_safety.handovers import views as handovers_views
    from elevator_safety.legal import views as legal_views
    from elevator_safety.lockouts import models as lockouts_models
    from elevator_safety.lockouts import views as lockouts_views
    from elevator_safety.maintenance import views as maintenance_views
    from elevator_safety.notifications import models as notifications_models
    from elevator_safety.notifications import views as notifications_views
    from elevator_safety.patrols import views as patrols_views
    from elevator_safety.public import models as public_models
    from elevator_safety.public import views as public_views
    from elevator_safety.records import cli as records_cli
    from elevator_safety.records import models as records_models
    from elevator_safety.records import views as records_views
    from elevator_safety.rectifications import views as rectifications_views
    from elevator_safety.registers import cli as registers_cli
    from elevator_safety.registers import models as registers_models
    from elevator_safety.registers import views as registers_views
    from elevator_safety.registry import cli as registry_cli
    from elevator_safety.registry import io_views as registry_io_views
    from elevator_safety.registry import views as registry_views
    from elevator_safety.reports import views as reports_views
    from elevator_safety.reports.cli import reports_cli
    from elevator_safety.scheduler.cli import scheduler_cli
    from elevator_safety.verify import views as verify_views

    # imported so that their models are in the metadata
    del audit, records_models, lockouts_models, notifications_models, public_models
    del registers_models, compliance_models, desk_models
    app.register_blueprint(views.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(i18n.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(registry_views.bp)
    app.register_blueprint(registry_io_views.bp)
    app.register_blueprint(records_views.bp)
    app.register_blueprint(patrols_views.bp)
    app.register_blueprint(maintenance_views.bp)
    app.register_blueprint(handovers_views.bp)
    app.register_blueprint(lockouts_views.bp)
    app.register_blueprint(rectifications_views.bp)
    app.register_blueprint(registers_views.bp)
    app.register_blueprint(legal_views.bp)
    app.register_blueprint(public_views.bp)
    app.register_blueprint(notifications_views.bp)
    app.register_blueprint(compliance_views.bp)
    app.register_blueprint(rule_values_views.bp)
    app.register_blueprint(dashboards_views.bp)
    app.register_blueprint(verify_views.bp)
    app.register_blueprint(reports_views.bp)
    app.register_blueprint(desk_views.bp)
    dashboards_home.init_app(app)
    app.cli.add_command(auth_cli.users_cli)
    app.cli.add_command(auth_cli.orgs_cli)
    app.cli.add_command(demo_cli.demo_cli)
    app.cli.add_command(registry_cli.registry_cli)
    app.cli.add_command(records_cli.records_cli)
    app.cli.add_command(registers_cli.registers_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(bench_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(desk_cli)
    return app


def _refuse_unsafe_production(app: Flask) -> None:
    """Refuse to run in production with the default secret key."""
    production = not app.debug and not app.testing
    if production and app.config["SECRET_KEY"] == default_config.DEFAULT_SECRET_KEY:
        raise ConfigError(
            "Refusing to start in production with the default SECRET_KEY. Set "
            "SECRET_KEY in instance/config.py or the ELEVATOR_SAFETY_SECRET_KEY "
            "environment variable (make run writes a random one for you)."
        )
    secure = app.config.get("COOKIE_SECURE")
    if secure is None:
        secure = production
    app.config["SESSION_COOKIE_SECURE"] = bool(secure)
    app.config["REMEMBER_COOKIE_SECURE"] = bool(secure)
