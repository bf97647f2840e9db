"""The Whoosh index: a view derived from the catalog, always rebuildable."""
