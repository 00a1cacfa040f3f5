"""Shared storage: FSx for Lustre and S3 (the component lands with the storage issue)."""
