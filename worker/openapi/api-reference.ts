/**
 * `GET /api/docs`: the interactive reference for /api/openapi.json. Swagger
 * UI, self-hosted: web/vite.config.ts copies its bundle and stylesheet from
 * swagger-ui-dist into the static assets, and web/public/api-docs.js starts
 * it. No inline script or style, so the page keeps the pages' own
 * Content-Security-Policy (`script-src 'self'`), and nothing is fetched from
 * another origin.
 */
import type { Context } from "hono";
import { PAGE_SECURITY_HEADERS } from "../http/security-headers.ts";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reelay API</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="api-reference" data-url="/api/openapi.json"></div>
<script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/api-docs.js"></script>
</body>
</html>
`;

export const apiReference = (c: Context) => c.html(PAGE, 200, PAGE_SECURITY_HEADERS);
