/**
 * The API's own description: the OpenAPI 3.1 document ({@code openapi/openapi.yaml} in the resources, and the JSON
 * derived from it at build time) and the {@code /docs} page that renders it with Swagger UI from its webjar.
 */
package dev.robots.docs;
