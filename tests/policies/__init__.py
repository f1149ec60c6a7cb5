"""The CrossGuard policy pack (policies/)."""
