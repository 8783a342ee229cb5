"""The Logs Insights query language as a lark grammar (LALR, so a query parses in one pass and a
syntax error names where it stands). Commands are separated by `|`; keywords are case-insensitive;
`#` starts a comment."""

from __future__ import annotations

from functools import lru_cache

from lark import Lark

GRAMMAR = r"""
query: command ("|" command)*

?command: fields_cmd | display_cmd | filter_cmd | stats_cmd | sort_cmd | limit_cmd | parse_cmd | dedup_cmd

fields_cmd: FIELDS aliased ("," aliased)*
display_cmd: DISPLAY field_ref ("," field_ref)*
filter_cmd: FILTER expr
stats_cmd: STATS aliased ("," aliased)* (BY aliased ("," aliased)*)?
sort_cmd: SORT sort_key ("," sort_key)*
limit_cmd: (LIMIT | HEAD) INT
parse_cmd: PARSE expr? STRING AS NAME ("," NAME)*  -> parse_glob
         | PARSE PARSE_SOURCE? REGEX              -> parse_regex
dedup_cmd: DEDUP field_ref ("," field_ref)*

aliased: expr (AS NAME)?
sort_key: expr (ASC | DESC)?

?expr: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: not_expr (AND not_expr)*
?not_expr: NOT not_expr -> negation
         | comparison
?comparison: sum
           | sum COMPARE sum            -> compare
           | sum LIKE like_pattern      -> like
           | sum NOT LIKE like_pattern  -> not_like
           | sum MATCHES REGEX          -> regex_match
           | sum IN list                -> in_list
           | sum NOT IN list            -> not_in_list
like_pattern: STRING | REGEX
?sum: product (ADD product)*
?product: unary (MUL unary)*
?unary: "-" unary -> negative
      | atom
?atom: NUMBER        -> number
     | DURATION      -> duration
     | STRING        -> string
     | call
     | field_ref
     | list
     | "(" expr ")"
list: "[" [expr ("," expr)*] "]"
call: NAME "(" [argument ("," argument)*] ")"
?argument: expr | STAR -> star
field_ref: NAME | QUOTED_NAME

FIELDS.2: "fields"i
DISPLAY.2: "display"i
FILTER.2: "filter"i
STATS.2: "stats"i
SORT.2: "sort"i
LIMIT.2: "limit"i
HEAD.2: "head"i
PARSE.2: "parse"i
DEDUP.2: "dedup"i
AS.2: "as"i
BY.2: "by"i
ASC.2: "asc"i
DESC.2: "desc"i
AND.2: "and"i
OR.2: "or"i
NOT.2: "not"i
LIKE.2: "like"i
IN.2: "in"i
MATCHES.3: "=~"
COMPARE: "<=" | ">=" | "!=" | "=" | "<" | ">"
ADD: "+" | "-"
MUL: "*" | "/" | "%" | "^"
STAR: "*"
DURATION.3: /\d+(?:ms|sec|min|hr|day|week|mo|s|m|h|d|w|q|y)(?![A-Za-z0-9_])/i
NUMBER: /\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/
INT: /\d+/
STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
REGEX: /\/(?:[^\/\\\n]|\\.)+\/[a-z]*/
NAME: /@?[A-Za-z_][A-Za-z0-9_.@$]*/
QUOTED_NAME: /`[^`]+`/
// The field before a parse regex: a name followed by `/` (elsewhere that slash divides).
PARSE_SOURCE.4: /(?:@?[A-Za-z_][A-Za-z0-9_.@$]*|`[^`]+`)(?=\s*\/)/
COMMENT: /#[^\n]*/

%ignore /\s+/
%ignore COMMENT
"""


@lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(GRAMMAR, start="query", parser="lalr", propagate_positions=True, maybe_placeholders=True)
