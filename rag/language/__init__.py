"""Language utilities on any prose: words and stems, paragraphs and sentences."""
