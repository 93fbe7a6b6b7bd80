"""DemoBench curves as a hand-written SVG and the accuracy table as Markdown (no plotting dependency)."""

from __future__ import annotations

from html import escape

from demo_training.demobench import ATTRIBUTES

TARGETS: dict[str, float] = {"color": 0.95, "position": 0.90, "size": 0.85, "shape": 0.80}
_PANEL_W, _PANEL_H, _MARGIN = 220, 170, 40
_SERIES_STYLE = {"stage2": ("#1f6feb", ""), "control": ("#d9480f", "6 4")}
_FALLBACK_STYLES = (("#2f9e44", "2 2"), ("#7048e8", "8 3"), ("#333333", ""))
_LABELS = {"stage2": "stage 2 (from stage 1)", "control": "control (from scratch)"}


def steps_to_targets(curve: dict) -> int | None:
    """The first checkpoint step at which every per-attribute target is met, or None."""
    for step, scores in zip(curve["steps"], curve["scores"], strict=True):
        if all(scores[name] >= target for name, target in TARGETS.items()):
            return step
    return None


def curves_svg(curves: dict[str, dict], title: str) -> str:
    """One panel per attribute: accuracy over training steps for each run, targets dashed."""
    max_step = max((max(c["steps"]) for c in curves.values() if c["steps"]), default=1)
    width = _MARGIN + len(ATTRIBUTES) * (_PANEL_W + _MARGIN)
    height = _PANEL_H + 3 * _MARGIN + 20 + 16 * len(curves)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{_MARGIN}" y="20" font-size="14">{escape(title)}</text>',
    ]
    top = _MARGIN
    for index, attribute in enumerate(ATTRIBUTES):
        left = _MARGIN + index * (_PANEL_W + _MARGIN)

        def x(step: float, left: int = left) -> float:
            return left + _PANEL_W * step / max_step

        def y(value: float) -> float:
            return top + _PANEL_H * (1 - value)

        parts.append(f'<rect x="{left}" y="{top}" width="{_PANEL_W}" height="{_PANEL_H}" fill="none" stroke="#999"/>')
        parts.append(f'<text x="{left}" y="{top - 6}" font-size="12">{attribute}</text>')
        for tick in (0.0, 0.5, 1.0):
            parts.append(f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        parts.append(f'<text x="{left + _PANEL_W}" y="{top + _PANEL_H + 14}" text-anchor="end">{max_step}</text>')
        parts.append(f'<text x="{left}" y="{top + _PANEL_H + 14}">0</text>')
        if attribute in TARGETS:
            ty = y(TARGETS[attribute])
            parts.append(
                f'<line x1="{left}" y1="{ty:.1f}" x2="{left + _PANEL_W}" y2="{ty:.1f}" stroke="#888" '
                'stroke-dasharray="2 3"/>'
            )
        for number, (name, curve) in enumerate(curves.items()):
            color, dash = _style(name, number)
            points = " ".join(
                f"{x(s):.1f},{y(v[attribute]):.1f}" for s, v in zip(curve["steps"], curve["scores"], strict=True)
            )
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"{dash_attr}/>')
            for point in points.split():  # markers, so a one-checkpoint series still shows
                px, py = point.split(",")
                parts.append(f'<circle cx="{px}" cy="{py}" r="3" fill="{color}"/>')
    legend_y = top + _PANEL_H + 36
    parts.append(f'<text x="{_MARGIN}" y="{legend_y}">training steps of the native-resolution stage →</text>')
    for i, name in enumerate(curves):
        color, dash = _style(name, i)
        lx, ly = _MARGIN + 320, legend_y + 16 * i
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 30}" y2="{ly - 4}" stroke="{color}" stroke-width="2"{dash_attr}/>'
        )
        parts.append(f'<text x="{lx + 36}" y="{ly}">{escape(_LABELS.get(name, name))}</text>')
    parts.append(f'<text x="{_MARGIN}" y="{legend_y + 16}">dotted: target</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _style(name: str, number: int) -> tuple[str, str]:
    return _SERIES_STYLE.get(name, _FALLBACK_STYLES[number % len(_FALLBACK_STYLES)])


def markdown_table(rows: dict[str, dict[str, float]]) -> str:
    """Rows of per-attribute accuracy (percent) under a header naming the targets."""
    header = "| | " + " | ".join(f"{a} (target {TARGETS[a]:.0%})" if a in TARGETS else a for a in ATTRIBUTES) + " |"
    lines = [header, "|" + "---|" * (len(ATTRIBUTES) + 1)]
    for label, scores in rows.items():
        lines.append(f"| {label} | " + " | ".join(f"{scores[a]:.1%}" for a in ATTRIBUTES) + " |")
    return "\n".join(lines) + "\n"
