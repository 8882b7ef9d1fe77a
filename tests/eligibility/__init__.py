"""Tests of eligibility."""
