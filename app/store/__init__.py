"""The gallery: image files, their SQLite index, PNG metadata, export and thumbnails. Never imports torch."""
