"""JavaScript: syntax check, program comparison, the V8 engine, minifiers."""
