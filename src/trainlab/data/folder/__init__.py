"""Image folders: `trainlab data images` cleans SRC/<class>/<files> into a uint8 array cache (`clean.py`);
`data.name=folder` trains on that cache (`dataset.py`, the only module the training path imports)."""
