"""Tests of offline_cache."""
