"""Developers' tools, never imported at run time: the generator of the help texts, completion tables and scripts."""
