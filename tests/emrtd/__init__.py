"""Tests of emrtd."""
