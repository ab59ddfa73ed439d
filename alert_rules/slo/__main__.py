"""`python -m alert_rules.slo`: regenerate slo.rules.yml and slo.test.yml from slos.yml."""

from alert_rules.slo.generate import main

main()
