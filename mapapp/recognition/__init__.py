"""recognition layer."""
