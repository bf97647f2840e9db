"""Put first on PYTHONPATH, this stands for a machine without the `faces` extra: the
import of dlib fails as it does there, whatever the environment has installed."""

raise ModuleNotFoundError("No module named 'dlib' (tests/data/without_faces stands in "
                          "for it)", name="dlib")
