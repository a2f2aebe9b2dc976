"""Python twins of common/ helpers used by the trainers (see versions.py)."""
