"""BHXH eligibility gateway simulator. Not built yet."""
