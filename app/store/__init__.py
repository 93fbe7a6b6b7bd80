"""The gallery: image files, their SQLite index, PNG/EXIF metadata, export and thumbnails. Never imports torch."""

from app.store.gallery import Gallery
from app.store.items import DeleteTicket, GalleryItem, OpenReport
from app.store.metadata import ImportedMetadata, read_image_metadata

__all__ = ["DeleteTicket", "Gallery", "GalleryItem", "ImportedMetadata", "OpenReport", "read_image_metadata"]
