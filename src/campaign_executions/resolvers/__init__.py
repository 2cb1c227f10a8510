"""GraphQL arguments turned into storage calls, and storage records into types."""
