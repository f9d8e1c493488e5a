"""Handlungsbedarf index: method (what), scoring and compute (how), explain/export/store (reading, output, publishing)."""
