"""One module per target, each a class with `deliver(job) -> Outcome` and nothing else to know."""
