"""One module per real service of the local stack."""
