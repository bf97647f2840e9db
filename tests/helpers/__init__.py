"""What the tests share besides fixtures (those are in tests/conftest.py): media they
make, processes they start, the CLI they drive, the corpus they compare with.
Test modules import these (`from helpers.media import make_jpeg`), never each other."""
