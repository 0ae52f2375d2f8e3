"""The loader's errors name the scenario and the field; scale, offsets and the CLI parser."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siaga import replay, scenarios
from siaga.events import ShelterHeadcountReported


def _write(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    raw = json.loads((scenarios.DIR / "cianjur-2022.json").read_text())
    change(raw)
    path = tmp_path / "cianjur-2022.json"
    path.write_text(json.dumps(raw))
    return path


def _entry(raw: dict[str, Any], entry_id: str) -> dict[str, Any]:
    return next(e for e in raw["timeline"] if e["id"] == entry_id)


def test_unknown_name_lists_the_available_scenarios() -> None:
    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load("krakatau-1883")
    message = str(info.value)
    assert "krakatau-1883" in message
    for name in ("cianjur-2022", "palu-2018", "semeru-2021"):
        assert name in message


def test_an_unchanged_copy_loads(tmp_path: Path) -> None:
    scenario = scenarios.load_file(_write(tmp_path, lambda raw: None))
    assert scenario.name == "cianjur-2022"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda raw: _entry(raw, "incident-2022-11-22")["event"].update(displaced=-5),
            "timeline.",
        ),
        (lambda raw: raw.pop("onset"), "onset: Field required"),
        (lambda raw: raw.update(timezone="Asia/Atlantis"), "timezone"),
        (
            lambda raw: _entry(raw, "incident-onset").update(offset="soon"),
            "(id 'incident-onset').offset",
        ),
    ],
    ids=["negative-count", "missing-onset", "bad-timezone", "bad-offset"],
)
def test_a_bad_file_names_the_scenario_and_the_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load_file(_write(tmp_path, change))
    message = str(info.value)
    assert "scenario 'cianjur-2022'" in message
    assert expected in message


def test_a_bad_event_field_names_the_entry_and_the_event_field(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        _entry(raw, "incident-2022-11-22")["event"]["displaced"] = "many"

    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load_file(_write(tmp_path, change))
    assert "(id 'incident-2022-11-22').event.displaced" in str(info.value)


def test_a_figure_without_a_basis_is_rejected(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        _entry(raw, "incident-2022-11-22")["basis"] = {"offset": "real:bnpb-2022-11-22"}

    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load_file(_write(tmp_path, change))
    message = str(info.value)
    assert "(id 'incident-2022-11-22').basis: no basis for" in message
    assert "'displaced'" in message


def test_a_real_figure_must_cite_a_listed_source(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        _entry(raw, "incident-2022-11-22")["basis"]["*"] = "real:my-uncle"

    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load_file(_write(tmp_path, change))
    assert "basis.*: real basis 'my-uncle' is not in the scenario's sources" in str(info.value)


def test_duplicate_entry_ids_and_envelope_fields_are_rejected(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["timeline"][1]["id"] = raw["timeline"][0]["id"]
        _entry(raw, "incident-onset")["event"]["event_id"] = "x"

    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load_file(_write(tmp_path, change))
    message = str(info.value)
    assert "duplicate entry id" in message
    assert "set by the replay" in message


def test_headcount_groups_beyond_the_total_are_rejected(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        entry = next(
            e for e in raw["timeline"] if e["event"]["type"] == "shelter.headcount_reported"
        )
        entry["event"]["children"] = entry["event"]["total"] + 1

    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load_file(_write(tmp_path, change))
    assert "exceeds total" in str(info.value)


def test_file_name_and_scenario_name_must_agree(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda raw: None).rename(tmp_path / "other.json")
    with pytest.raises(scenarios.ScenarioError, match="differs from the file name"):
        scenarios.load_file(path)


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{ not json")
    with pytest.raises(scenarios.ScenarioError, match="scenario 'broken'.*cannot read JSON"):
        scenarios.load_file(path)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("5h39m", 20340), ("1d2h", 93600), ("-1d", -86400), ("1d5h39m50s", 106790)],
)
def test_offsets(text: str, seconds: int) -> None:
    assert scenarios.parse_offset(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "1h1d", "-", "soon"])
def test_bad_offsets(text: str) -> None:
    with pytest.raises(ValueError):
        scenarios.parse_offset(text)


def test_scale_shrinks_people_and_stock_but_not_teams() -> None:
    scenario = scenarios.load("cianjur-2022")
    full = {t.entry_id: t.event for t in scenarios.build_events(scenario)}
    small = {t.entry_id: t.event for t in scenarios.build_events(scenario, scale=0.1)}
    assert small["incident-2022-11-25"].displaced == 7386  # type: ignore[attr-defined]
    stock = "stock-kemensos-bekasi-rice-01"
    assert small[stock].quantity == full[stock].quantity / 10  # type: ignore[attr-defined]
    team = "team-c1-rollcall"
    assert small[team].members == full[team].members  # type: ignore[attr-defined]
    for entry_id, event in small.items():
        if isinstance(event, ShelterHeadcountReported):
            assert event.total == math.floor(full[entry_id].total * 0.1)  # type: ignore[attr-defined]


@pytest.mark.parametrize("scale", [0, -1, 1.5, float("nan")])
def test_scale_out_of_range(scale: float) -> None:
    with pytest.raises(ValueError, match="scale"):
        scenarios.build_events(scenarios.load("semeru-2021"), scale=scale)


def test_cli_parses_the_replay_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="siaga")
    replay.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["replay", "cianjur-2022", "--speed", "600", "--scale", "0.1", "--now"]
    )
    assert (args.name, args.speed, args.scale, args.now, args.list) == (
        "cianjur-2022",
        600.0,
        0.1,
        True,
        False,
    )
    assert args.func is replay.cmd_replay
    defaults = parser.parse_args(["replay", "palu-2018"])
    assert (defaults.speed, defaults.scale, defaults.now) == (60.0, 1.0, False)


def test_cli_list_prints_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="siaga")
    replay.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["replay", "--list"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    for name in scenarios.available():
        assert name in out


def test_cli_without_kafka_settings_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from siaga.settings import get_settings

    monkeypatch.delenv("SIAGA_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    get_settings.cache_clear()
    parser = argparse.ArgumentParser(prog="siaga")
    replay.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["replay", "cianjur-2022"])
    try:
        with pytest.raises(SystemExit, match="SIAGA_KAFKA_BOOTSTRAP_SERVERS"):
            args.func(args)
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("speed", [-1.0, float("nan")])
def test_bad_speed(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        replay._pace(speed)


def test_speed_zero_or_inf_means_as_fast_as_possible() -> None:
    assert replay._pace(0) is None
    assert replay._pace(float("inf")) is None
    assert replay._pace(60) == pytest.approx(1 / 60)
