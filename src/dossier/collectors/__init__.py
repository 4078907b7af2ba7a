"""Collectors: one public source each, turned into typed findings."""
