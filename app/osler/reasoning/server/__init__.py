"""A clinic's shared LLM server (llama.cpp's OpenAI-compatible server, vLLM) as an engine:
the same candidate scoring, leave-one-out evidence and cited rationale as the in-process LLM
engine, computed from the server's own log-probabilities. Standard library HTTP only.
"""
