"""The zoomable image viewer."""
