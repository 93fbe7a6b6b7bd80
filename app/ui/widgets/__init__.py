"""Small shared widgets and helpers: icons, theme, combos, background work."""
