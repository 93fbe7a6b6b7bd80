"""`pixart-studio train-demo` options: what each run trains, before any training starts."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest

from app.cli import build_parser
from app.core.resources import demo_model_dir
from demo_training.command import settings_from
from demo_training.trainer import QUICK, TrainSettings


def parse(*options: str):
    argv = ["train-demo", *options]
    return build_parser(argv).parse_args(argv)


def test_the_default_run_trains_the_shipped_models_recipe_without_the_control() -> None:
    """Reproducing the model does not need the from-scratch control, so only --with-control pays for it."""
    assert settings_from(parse()) == TrainSettings()
    assert not settings_from(parse()).run_control
    assert settings_from(parse("--with-control")).run_control


def test_the_run_seed_defaults_to_the_recipes_own_seeds_and_passes_through() -> None:
    assert settings_from(parse()).seed == 0
    assert settings_from(parse("--seed", "3")).seed == 3
    assert settings_from(parse("--quick", "--seed", "3")) == replace(QUICK, seed=3)


def test_a_negative_seed_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("--seed", "-1")
    assert exit_info.value.code == 2
    assert "argument --seed: must not be negative, got -1" in capsys.readouterr().err


def test_the_shipped_model_was_trained_with_the_default_recipe() -> None:
    """`train-demo` with no options reproduces the shipped folder: its report records the same settings."""
    report = json.loads((demo_model_dir() / "training_report.json").read_text(encoding="utf-8"))
    recorded, expected = report["settings"], json.loads(json.dumps(asdict(TrainSettings())))
    assert {name: recorded[name] for name in expected} == expected
    # The run was trained in one process, the only way train-demo trains since its data-parallel option went.
    assert set(recorded) - set(expected) <= {"processes"} and recorded.get("processes", 1) == 1


def test_the_options_that_only_served_experiments_are_gone(capsys: pytest.CaptureFixture[str]) -> None:
    """Other recipes and step counts are not options: a run trains the shipped recipe (or --quick for tests)."""
    for option in ("--two-hours", "--stage2-steps", "--processes"):
        with pytest.raises(SystemExit) as exit_info:
            parse(option)
        assert exit_info.value.code == 2 and f"unrecognized arguments: {option}" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--threads"])
@pytest.mark.parametrize(("value", "message"), [("0", "must be at least 1, got 0"), ("ten", "expected a whole number")])
def test_a_bad_count_is_a_usage_error_naming_the_option(
    option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(option, value)
    assert exit_info.value.code == 2
    assert f"argument {option}: {message}" in capsys.readouterr().err
