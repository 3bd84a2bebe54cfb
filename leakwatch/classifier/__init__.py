"""Refusal classification: one interface (`contract.py`), several engines."""
