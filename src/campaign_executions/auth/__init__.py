"""Bearer-token validation and permission checks shared by REST and GraphQL."""
