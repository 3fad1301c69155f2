"""Fixtures of the scheduler tests: the CLI group, a fake engine that raises alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from elevator_safety.compliance.models import Alert, State
from elevator_safety.extensions import db
from elevator_safety.scheduler import jobs
from elevator_safety.scheduler.cli import scheduler_cli


@pytest.fixture
def cli_app(app: Flask) -> Flask:
    """The app with the scheduler commands (create_app registers them in production)."""
    if "scheduler" not in app.cli.commands:
        app.cli.add_command(scheduler_cli)
    return app


def add_alert(
    elevator_id: int, rule: str, state: State, detail: str | None = None, period: str = "-"
) -> Alert:
    alert = Alert(
        elevator_id=elevator_id,
        rule=rule,
        duty=rule.split(".")[0],
        period=period,
        state=state,
        detail={"detail": detail} if detail is not None else {},
    )
    db.session.add(alert)
    db.session.flush()
    return alert


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[datetime]]:
    """Replace the engine: each evaluation raises the given alerts (not committed)."""
    calls: list[datetime] = []

    def install(*specs: tuple[int, str, State, str | None], fail: bool = False) -> list[datetime]:
        def fake(now: datetime) -> tuple[list[int], dict[str, Any]]:
            calls.append(now)
            raised = [add_alert(*spec).id for spec in specs]
            if fail:
                raise RuntimeError("engine broke")
            return raised, {
                "raised": len(raised),
                "resolved": 0,
                "still_open": len(raised),
                "rules": 1,
            }

        monkeypatch.setattr(jobs, "run_evaluation", fake)
        return calls

    return install
