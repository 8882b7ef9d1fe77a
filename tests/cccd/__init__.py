"""Tests of cccd."""
