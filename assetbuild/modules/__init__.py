"""ES module trees: `[[modules]]`/`[importmap]` config, and (later layers) collecting, resolving, checking,
and (`modules.summary`, presentation) what check and build say of them.

Kept apart from the bundle code so each concern has one owner: `modules.config` sits in the inputs
layer (config.py reads it); the rest of the package sits above the languages it checks with.
"""
