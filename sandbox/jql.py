"""A small JQL parser for the sandbox: `field = "value"` / `!=` clauses joined by AND, ORDER BY.

Anything else is a syntax error (400), as in Jira, so a query broken by unescaped input fails
loudly in tests instead of matching the wrong tickets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>!=|=)|(?P<word>[A-Za-z0-9_.\-]+))'
)
FIELDS = {"project", "labels", "status", "statuscategory", "key", "issuetype"}


class JqlError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    clauses: list[tuple[str, str, str]]
    order_by: str | None
    descending: bool


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise JqlError(f"Error in the JQL Query: unexpected character at position {position}.")
        kind = match.lastgroup or ""
        value = match.group(kind)
        tokens.append((kind, _unquote(value) if kind == "string" else value))
        position = match.end()
    return tokens


def _is_word(token: tuple[str, str], word: str) -> bool:
    return token[0] == "word" and token[1].upper() == word


def parse(text: str) -> Query:
    tokens = tokenize(text)
    clauses: list[tuple[str, str, str]] = []
    i = 0
    while i < len(tokens) and not _is_word(tokens[i], "ORDER"):
        if clauses:
            if not _is_word(tokens[i], "AND"):
                raise JqlError(f"Error in the JQL Query: expected AND, found {tokens[i][1]!r}.")
            i += 1
        if i + 3 > len(tokens):
            raise JqlError("Error in the JQL Query: the query ends in the middle of a clause.")
        field, op, value = tokens[i], tokens[i + 1], tokens[i + 2]
        if field[0] != "word" or field[1].lower() not in FIELDS:
            raise JqlError(f"Error in the JQL Query: field {field[1]!r} does not exist.")
        if op[0] != "op" or value[0] not in ("string", "word"):
            raise JqlError("Error in the JQL Query: expected an operator and a value.")
        clauses.append((field[1].lower(), op[1], value[1]))
        i += 3
    order_by, descending = None, False
    if i < len(tokens):
        if len(tokens) < i + 3 or not _is_word(tokens[i + 1], "BY"):
            raise JqlError("Error in the JQL Query: expected ORDER BY <field>.")
        order_by = tokens[i + 2][1].lower()
        rest = tokens[i + 3 :]
        if rest:
            if len(rest) != 1 or rest[0][1].upper() not in ("ASC", "DESC"):
                raise JqlError("Error in the JQL Query: expected ASC or DESC.")
            descending = rest[0][1].upper() == "DESC"
    return Query(clauses, order_by, descending)
