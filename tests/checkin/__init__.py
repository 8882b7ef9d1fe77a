"""Tests of checkin."""
