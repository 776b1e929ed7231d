"""Bring-your-own local causal LM (Llama, Gemma, MedGemma…): validate, load quantized, and use
it to re-score the differential and write a cited rationale. Imports torch lazily.
"""
