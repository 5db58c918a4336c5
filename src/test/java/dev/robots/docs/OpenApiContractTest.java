package dev.robots.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.robots.ApiContract;
import dev.robots.RunningService;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.yaml.snakeyaml.Yaml;

/** The OpenAPI document is valid OpenAPI 3.1, served in both forms, and describes exactly the routes the server has. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiContractTest {
    private final ApiContract contract = ApiContract.get();
    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2");

    @Test
    void the_document_is_valid_openapi_3_1_to_an_independent_parser() {
        var options = new ParseOptions();
        options.setResolve(true);
        var result = new OpenAPIV3Parser().readContents(contract.document().toString(), null, options);

        assertThat(result.getMessages()).isEmpty();
        assertThat(result.getOpenAPI().getOpenapi()).isEqualTo("3.1.0");
        assertThat(result.getOpenAPI().getPaths()).hasSameSizeAs(contract.document().get("paths"));
    }

    @Test
    void the_json_and_the_yaml_served_are_the_same_document() {
        var json = service.get("/openapi.json");
        var yaml = service.get("/openapi.yaml");

        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(json.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(yaml.statusCode()).isEqualTo(200);
        assertThat(yaml.headers().firstValue("Content-Type")).hasValue("application/yaml");
        Map<String, Object> fromYaml = new Yaml().load(yaml.body());
        assertThat(new JsonObject(json.body())).isEqualTo(new JsonObject(fromYaml));
        assertThat(new JsonObject(json.body()).getString("openapi")).isEqualTo("3.1.0");
    }

    /**
     * The files' answers carry the validators and the caching the README promises (ETag, Last-Modified, no-cache);
     * the document says so on each of them, so that a client learns what to send for the 304 it describes.
     */
    @Test
    void the_documents_files_describe_the_headers_their_answers_carry() {
        for (String path : List.of("/openapi.json", "/openapi.yaml", "/docs")) {
            var ok = service.get(path);
            assertThat(ok.statusCode()).as(path).isEqualTo(200);
            String etag = ok.headers().firstValue("ETag").orElseThrow();
            assertThat(ok.headers().firstValue("Last-Modified")).as(path).isPresent();
            assertThat(ok.headers().firstValue("Cache-Control")).as(path).hasValue("no-cache");
            assertThat(service.send(service.request("GET", path, null, null).header("If-None-Match", etag))
                    .statusCode()).as(path).isEqualTo(304);
            assertThat(service.send(service.request("GET", path, null, null).header("If-Match", "\"other\""))
                    .statusCode()).as(path).isEqualTo(412);
            String pointer = "/paths/" + ApiContract.escape(path) + "/get/responses/";
            for (String status : List.of("200", "304", "412")) {
                JsonNode headers = contract.document().at(contract.resolve(pointer + status) + "/headers");
                for (String header : List.of("ETag", "Last-Modified", "Cache-Control")) {
                    // A 412 is not sent with the file's caching (ApiDocs), which a shared cache would keep it under.
                    boolean carried = !(status.equals("412") && header.equals("Cache-Control"));
                    assertThat(headers.has(header)).as("%s %s %s", path, status, header).isEqualTo(carried);
                }
            }
        }
    }

    /**
     * What is refused before any route runs has no operation to list it: the document's description names each such
     * status, as the README's Errors do.
     */
    @Test
    void the_description_names_every_status_given_before_routing() throws Exception {
        String description = contract.document().at("/info/description").asText();
        var refused = Map.of(
                "GET /v1/robots HTTP/2.0\r\nHost: localhost\r\n\r\n", 505,
                "GET /v1/robots HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
                "GET /v1/robots/%31 HTTP/1.1\r\nHost: localhost\r\n\r\n", 400,
                "PUT /v1/robots HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", 405,
                "GET /v1/robots/1/ HTTP/1.1\r\nHost: localhost\r\n\r\n", 404);
        for (var entry : refused.entrySet()) {
            try (var socket = new java.net.Socket("127.0.0.1", service.uri("/").getPort())) {
                socket.setSoTimeout(5000);
                socket.getOutputStream().write(entry.getKey().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                String statusLine = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                        java.nio.charset.StandardCharsets.US_ASCII)).readLine();
                assertThat(statusLine).as(entry.getKey()).startsWith("HTTP/1.1 " + entry.getValue() + " ");
            }
            assertThat(description).as("the description names %d", entry.getValue())
                    .contains("`" + entry.getValue() + "`");
        }
    }

    @Test
    void the_docs_page_and_its_scripts_come_from_this_server() {
        var page = service.get("/docs");

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
                policy -> assertThat(policy).startsWith("default-src 'self'").contains("base-uri 'none'"));
        assertThat(page.body()).doesNotContain("://");
        for (String asset : List.of("/docs", "/openapi.json", "/docs/init.js",
                page.body().replaceAll("(?s).*src=\"([^\"]+bundle\\.js)\".*", "$1"),
                page.body().replaceAll("(?s).*href=\"([^\"]+\\.css)\".*", "$1"))) {
            var answer = service.get(asset);
            assertThat(answer.statusCode()).as(asset).isEqualTo(200);
            // Never sniffed as another type, and no Referer from the page to another site.
            assertThat(answer.headers().firstValue("X-Content-Type-Options")).as(asset).hasValue("nosniff");
            assertThat(answer.headers().firstValue("Referrer-Policy")).as(asset).hasValue("no-referrer");
        }
    }

    @Test
    void every_route_of_the_router_is_in_the_document() {
        Set<String> missing = new TreeSet<>(routes());
        missing.removeAll(contract.operationKeys());
        missing.removeIf(ApiContract::pending);
        // Every GET answers HEAD as well (RFC 9110 §9.3.2), which the document says once instead of per path.
        missing.removeIf(route -> route.startsWith("HEAD ")
                && contract.operationKeys().contains("GET " + route.substring("HEAD ".length())));

        assertThat(missing).as("routes the document does not describe").isEmpty();
    }

    @Test
    void every_operation_of_the_document_is_a_route() {
        Set<String> missing = new TreeSet<>(contract.operationKeys());
        missing.removeAll(routes());
        missing.removeIf(ApiContract::pending);

        assertThat(missing).as("operations no route serves").isEmpty();
    }

    @Test
    void every_example_in_the_document_matches_its_schema() {
        var errors = new ArrayList<String>();
        var checked = new ArrayList<String>();
        examples(contract.document(), "", errors, checked);

        assertThat(errors).isEmpty();
        assertThat(checked).hasSizeGreaterThan(20);
    }

    @Test
    void an_answer_unlike_the_document_is_caught() {
        var answer = new JsonObject(service.get("/v1/robots/" + service.create("R2-D2")).body());
        var noMessage = answer.copy();
        noMessage.remove("message");

        assertThat(robotViolations(answer)).isEmpty();
        assertThat(robotViolations(answer.copy().put("colour", "blue"))).isNotEmpty();
        assertThat(robotViolations(answer.copy().putNull("created_at"))).isNotEmpty();
        assertThat(robotViolations(noMessage)).isNotEmpty();
        assertThat(robotViolations(answer.copy().put("created_at", "2026-12-01T04:22:12Z"))).isNotEmpty();
        assertThat(robotViolations(answer.copy().put("count", -1))).isNotEmpty();
    }

    /** What the document says is wrong with {@code robot} as the 200 of GET /v1/robots/{id}. */
    private List<String> robotViolations(JsonObject robot) {
        var errors = new ArrayList<String>();
        String schema = contract.resolve("/paths/~1v1~1robots~1{id}/get/responses/200")
                + "/content/application~1json/schema";
        contract.validate(schema, json(robot), "robot", errors);
        return errors;
    }

    private static JsonNode json(JsonObject object) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(object.encode());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Walks the document for media types, parameters and headers that carry both a schema and an example. */
    private void examples(JsonNode node, String pointer, List<String> errors, List<String> checked) {
        if (node.isObject()) {
            if (node.has("schema") && node.has("example")) {
                contract.validate(pointer + "/schema", node.get("example"), pointer, errors);
                checked.add(pointer);
            }
            node.properties().forEach(field -> examples(field.getValue(),
                    pointer + "/" + ApiContract.escape(field.getKey()), errors, checked));
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                examples(node.get(i), pointer + "/" + i, errors, checked);
            }
        }
    }

    /** "METHOD /path/{param}" of every route with a path and methods, but the docs page's own files. */
    private Set<String> routes() {
        var routes = new TreeSet<String>();
        for (var route : service.app().routes()) {
            // The template a route serves: the robot read's route is a prefix named for it (RobotRoutes.mountRead).
            String path = dev.robots.observability.RequestMetrics.template(route);
            Set<HttpMethod> methods = route.methods();
            if (path == null || methods == null || methods.isEmpty() || path.startsWith("/docs/")) {
                continue;
            }
            String template = path.replaceAll(":([A-Za-z_]+)", "{$1}");
            methods.forEach(method -> routes.add(method.name() + " " + template));
        }
        return routes;
    }
}
