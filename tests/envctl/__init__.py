"""The CLI (envctl/)."""
