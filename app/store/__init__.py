"""The gallery: image files, their SQLite index, PNG/EXIF metadata, export and thumbnails. Never imports torch."""

from app.store.gallery import Gallery
from app.store.items import DeleteTicket, GalleryItem, OpenReport
from app.store.metadata import ImportedSettings, read_image_settings

__all__ = ["DeleteTicket", "Gallery", "GalleryItem", "ImportedSettings", "OpenReport", "read_image_settings"]
