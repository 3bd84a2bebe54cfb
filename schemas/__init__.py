"""Event contracts: one pydantic model per topic (`events.py`), one declaration per topic
(`topics.py`), and the JSON Schema files generated from the models (`json/`) that
downstream teams code against. `python -m schemas.generate` rewrites the files; a test
fails when they drift from the models."""
