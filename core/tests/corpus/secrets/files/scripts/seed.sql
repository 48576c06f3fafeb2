-- Local development seed. Run with: psql -f scripts/seed.sql
CREATE ROLE storefront_app WITH LOGIN PASSWORD 'J~ynjmyWYKzRn*8!2is6';
CREATE ROLE reporting WITH LOGIN PASSWORD 'Yonder517*ZkXEZ' VALID UNTIL 'infinity';
ALTER USER legacy_sync WITH PASSWORD 'u21HnZAYDi20OR9kwr2fsnO0';
GRANT CONNECT ON DATABASE storefront TO storefront_app;

INSERT INTO users (id, email, password_hash, created_at) VALUES
  ('c06f5be7-193d-4cfa-a505-bd2c35d2cbad', 'admin@acme.io', '$2b$12$KIXQJx7yZrE1m0d3q9Wm8eXv1u3Gz9bVqQd8o1Hn2pT0y6aJfWc1a', now()),
  ('7ad6f360-18c7-4865-9a66-76f7c87bc50b', 'dana@acme.io', NULL, now());

INSERT INTO api_clients (name, client_id, token_url) VALUES
  ('storefront-web', '233060a2-4199-4935-bf65-47a82f22fb1e', 'https://auth.acme.io/oauth2/token');

-- password reset tokens expire after one hour, see PasswordResetService
