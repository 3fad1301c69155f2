"""``flask reports archive`` and ``flask reports verify``: a signed archive, checked back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from elevator_safety.reports.signing import sign_pdf
from elevator_safety.scoping import local_today
from tests.verify.conftest import content_line, make_pdf
from tests.verify.test_checks import UNKNOWN, alter, three_records
from tests.verify.test_signing import flip_byte_in_content


def period() -> list[str]:
    today = local_today()
    return ["--from", (today - timedelta(days=1)).isoformat(), "--to", today.isoformat()]


def archive(runner, code: str, output, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["reports", "archive", code, *period(), "-o", str(output), *extra])


def test_archive_then_verify_round_trip(runner, world, tmp_path):
    records = three_records(world)
    elevator = world.own.elevators[0]
    output = tmp_path / "archive.pdf"
    # Spaces and lower case are forgiven, as in the registry.
    code = " ".join([elevator.equipment_code[:10], elevator.equipment_code[10:]]).lower()
    result = archive(runner, code, output)
    assert result.exit_code == 0, result.output
    assert f"Wrote {output}" in result.output
    assert output.read_bytes().startswith(b"%PDF")

    result = runner.invoke(args=["reports", "verify", str(output)])
    assert result.exit_code == 0, result.output
    assert "OK  Signature: Signed by" in result.output
    for record in records:
        assert f"OK  Content hash {record.content_hash} = Daily patrol" in result.output
    assert f"OK  Chain head {records[-1].chain_hash}" in result.output
    assert "verifies: signature and 4 printed hashes" in result.output
    assert "FAILED" not in result.output


def test_verify_names_what_fails_and_exits_1(runner, world, tmp_path):
    first, second, _third = three_records(world)
    output = tmp_path / "archive.pdf"
    assert archive(runner, world.own.elevators[0].equipment_code, output).exit_code == 0
    alter(second)
    result = runner.invoke(args=["reports", "verify", str(output)])
    assert result.exit_code == 1
    assert f"OK  Content hash {first.content_hash}" in result.output
    assert f"FAILED  Content hash {second.content_hash}" in result.output
    assert "altered after it was signed" in result.output
    assert "does NOT verify" in result.output


def test_verify_a_file_altered_after_signing(runner, world, tmp_path):
    first, _second, _third = three_records(world)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(flip_byte_in_content(sign_pdf(make_pdf(content_line(first.content_hash)))))
    result = runner.invoke(args=["reports", "verify", str(path)])
    assert result.exit_code == 1
    assert "FAILED  Signature: The file was altered after it was signed" in result.output


def test_verify_an_unknown_hash_and_a_file_that_is_not_a_pdf(runner, world, tmp_path):
    path = tmp_path / "sheet.pdf"
    path.write_bytes(sign_pdf(make_pdf(content_line(UNKNOWN))))
    result = runner.invoke(args=["reports", "verify", str(path)])
    assert result.exit_code == 1
    assert f"FAILED  Content hash {UNKNOWN}" in result.output
    assert "No record has this content hash" in result.output
    path.write_text("hello")
    result = runner.invoke(args=["reports", "verify", str(path)])
    assert result.exit_code == 1
    assert "The file is not a readable PDF." in result.output


def test_archive_of_an_unknown_elevator(runner, world, tmp_path):
    result = archive(runner, "NO-SUCH-CODE", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "No elevator with equipment code NO-SUCH-CODE." in result.output
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (["--from", "2025-13-01", "--to", "2025-12-31"], "'2025-13-01' does not match"),
        (["--from", "2025-12-31", "--to", "2025-01-01"], "the first day is after the last day"),
        (["--to", "2025-12-31"], "Missing option '--from'"),
    ],
)
def test_archive_with_bad_dates(runner, world, tmp_path, dates, message):
    code = world.own.elevators[0].equipment_code
    result = runner.invoke(args=["reports", "archive", code, *dates, "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.pdf").exists()


NO_FONT = {"REPORT_FONT_PATH": "/nonexistent/font.ttc"}


@pytest.mark.parametrize("app_config", [NO_FONT], indirect=True)
def test_archive_without_the_font_says_how_to_install_it(runner, world, tmp_path):
    result = archive(runner, world.own.elevators[0].equipment_code, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "fonts-wqy-microhei" in result.output
    assert "REPORT_FONT_PATH" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_archive_into_a_missing_folder(runner, world, tmp_path):
    result = archive(runner, world.own.elevators[0].equipment_code, tmp_path / "no/x.pdf")
    assert result.exit_code == 1
    assert "does not exist" in result.output
