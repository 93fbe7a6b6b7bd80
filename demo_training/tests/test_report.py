"""The DemoBench curve plot and table that the docs and README show."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from demo_training.report import curves_svg, markdown_table, steps_to_targets

GOOD = {"color": 0.96, "position": 0.92, "size": 0.9, "shape": 0.85, "all": 0.7}
BAD = {"color": 0.5, "position": 0.92, "size": 0.9, "shape": 0.85, "all": 0.3}


def test_steps_to_targets_is_the_first_checkpoint_meeting_every_target() -> None:
    """A run that meets all four targets at its second checkpoint reports that step; one that never does, None."""
    assert steps_to_targets({"steps": [100, 200, 300], "scores": [BAD, GOOD, GOOD]}) == 200
    assert steps_to_targets({"steps": [100], "scores": [BAD]}) is None


def test_svg_is_well_formed_with_one_line_per_run_and_attribute() -> None:
    """The plot parses as SVG and draws each run in each of the five panels."""
    curves = {"stage2": {"steps": [100, 200], "scores": [BAD, GOOD]}, "control": {"steps": [100], "scores": [BAD]}}
    root = ET.fromstring(curves_svg(curves, "title & more"))
    polylines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(polylines) == 2 * 5


def test_table_shows_percentages_per_attribute() -> None:
    """Each row lists the five accuracies as percentages under headers naming the targets."""
    table = markdown_table({"shipped": GOOD})
    assert "color (target 95%)" in table.splitlines()[0]
    assert "| shipped | 96.0% | 92.0% | 90.0% | 85.0% | 70.0% |" in table
