"""The model manager: the catalog's list, Hub downloads and checkpoint conversion."""
