"""The formula language's front end: tokens, parser, nodes, name analysis, the function
registry and type checking. Pure: it imports no engine and no Polars."""
