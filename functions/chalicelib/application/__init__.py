"""What the portal shows and does, shared by the HTML pages and the JSON API:
read models (dashboard, unit, tenant home), the credit and relay actions, the
days-left estimate and the server-side SVG chart."""
