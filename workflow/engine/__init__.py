"""The workflow engine: what a kind of case is and how it may move, with no database writes of its own.

``definitions`` is the plain-data core (states, transitions, fields) the rest depends on; ``loader``
reads and validates ``kinds/*.toml``; ``conditions`` are the named checks a transition may require
and ``fields`` checks a case's field values; ``machine`` is the shared pytransitions machine;
``registry`` keeps every version of every kind; ``audit`` hashes and verifies the history chain;
``diagram`` draws a kind as Mermaid. A change to how workflows are declared or checked goes here.
"""
