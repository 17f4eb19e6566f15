"""Source maps (Source Map v3, ECMA-426): made by aligning output tokens with input tokens, proven."""
