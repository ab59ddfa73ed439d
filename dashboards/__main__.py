"""`python -m dashboards`: regenerate dashboards/json/*.json from dashboards/definitions.py."""

from dashboards.render import main

main()
