"""Metadata readers: each returns a small normalised dict, one field parsed at a time."""
