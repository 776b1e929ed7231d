"""Teaching: real records turned into teaching cases (de-identification), case library, scoring.

The public entry point for de-identification is `osler.teaching.deidentify.deidentify_path`.
"""
