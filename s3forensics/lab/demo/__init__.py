"""The demo world: a sandbox account's layout and deterministic traffic with incidents."""
