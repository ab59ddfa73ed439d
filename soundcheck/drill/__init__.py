"""Failure drills (`soundcheck drill NAME`): steady state, traffic, fault, observe, repair, checks,
verdicts, journal and report. Drill files live in drills/<name>.yaml (docs/drills.md)."""
