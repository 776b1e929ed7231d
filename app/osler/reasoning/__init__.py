"""Reasoning: the clinical model (runtime, engines), the differential, and its explanations.

The only package that imports torch/transformers/bitsandbytes, and only lazily (inside
functions), so that `osler --help` and the window start fast.
"""
