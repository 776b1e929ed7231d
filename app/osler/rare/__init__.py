"""Rare diseases to consider: phenotype similarity over the Human Phenotype Ontology.

Kept apart from the calibrated differential on purpose: its scores are similarities, not
probabilities, and are never mixed with them."""
