// Starts Swagger UI on /api/docs (worker/openapi/api-reference.ts) with the
// document its page names. A file of its own, not an inline script: the page
// keeps the Content-Security-Policy `script-src 'self'`.
const root = document.getElementById("api-reference");
globalThis.ui = globalThis.SwaggerUIBundle({
  url: root.dataset.url,
  domNode: root,
  deepLinking: true,
  // Its default sends the document to validator.swagger.io for a badge.
  validatorUrl: null,
});
