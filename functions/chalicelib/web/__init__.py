"""The browser portal: sign-in, sessions, CSRF, pages rendered from branding/ templates."""
