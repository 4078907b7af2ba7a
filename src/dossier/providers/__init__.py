"""Analysts: the builtin grounded one and LLM providers behind one Protocol."""
