"""What more than one test module (or a benchmark) uses: instance starters, protocol peers,
query helpers and the one poll-until helper. Conftests keep only fixtures and import from here."""
