"""Data protection: pseudonymisation now; access, consent, encryption and audit to come."""
