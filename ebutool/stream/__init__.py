"""The record stream: captures and traces, by content, as one iterator of Records."""
