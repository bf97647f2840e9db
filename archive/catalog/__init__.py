"""The catalog: the only code that knows the schema."""

from archive.catalog.database import Catalog, CatalogError

__all__ = ["Catalog", "CatalogError"]
