"""LLM answers: backends, the managed local model server, drafts and their verification."""
