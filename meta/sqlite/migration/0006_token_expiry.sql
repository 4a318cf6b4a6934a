-- API tokens may expire: a token is refused after expires (NULL: never).
ALTER TABLE api_tokens ADD COLUMN expires TEXT;
