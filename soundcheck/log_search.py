"""`soundcheck logs search NAME`: a Kibana saved search run from the command line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pipeline.search_runner import SearchFailed, run_search
from pipeline.searches import SAVED_SEARCHES, UnknownSearch, find_search
from soundcheck.settings import load_settings


def print_log_search(
    console: Console, name: str | None, trace_id: str | None, size: int, since: str | None
) -> int:
    """Print the search's hits as a table; return the exit code (0 found or not, 1 error)."""
    if not name:
        listing = Table("name", "title", "what it finds", title="saved searches")
        for search in SAVED_SEARCHES:
            listing.add_row(search.id.removeprefix("soundcheck-"), search.title, search.description)
        console.print(listing)
        return 0
    settings = load_settings()
    url = f"http://{settings.host}:{settings.elasticsearch_port}"
    try:
        result = run_search(url, find_search(name), trace_id, size, since)
    except (UnknownSearch, SearchFailed) as error:
        Console(stderr=True).print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
        return 1
    table = Table(title=result.search.title, title_justify="left")
    for column in result.columns:
        table.add_column(column, overflow="fold")  # ids stay whole, to copy and paste
    for row in result.rows:
        table.add_row(*row)
    console.print(table)
    shown = f"{len(result.rows)} of {result.total} matching documents"
    if result.counts:
        shown += " · by " + (result.search.group_by or "") + ": "
        shown += ", ".join(f"{key} {count}" for key, count in result.counts.items())
    console.print(shown, highlight=False)
    return 0
