package dev.robots;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.oas.OpenApi31;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The OpenAPI document the service serves ({@code openapi/openapi.json}, derived from the YAML at build time), read as
 * a contract: which operations it has, and whether an answer the service gave is one the document allows (status,
 * headers, content type, body schema). {@link RunningService} checks every answer its client receives with it.
 */
public final class ApiContract {
    /**
     * What the document describes and this branch does not do yet, because another branch is adding it right now. The
     * lead removes each entry once that branch is merged; from then on the tests require it like everything else.
     * Keys are an operation ("METHOD /path": its answers are not checked, and the router may lack it), a route the
     * router still has and the document leaves out, or a header ("header NAME": not required yet).
     */
    public static final Map<String, String> ADDED_BY_OTHER_BRANCHES_NOT_YET_REQUIRED = Map.of();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LOCATION = "classpath:openapi/openapi.json";
    private static final ApiContract INSTANCE = new ApiContract();

    private final JsonNode document;
    private final List<Operation> operations;
    private final JsonSchemaFactory schemas = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            builder -> builder.metaSchema(OpenApi31.getInstance())
                    .defaultMetaSchemaIri(OpenApi31.getInstance().getIri()));
    private final Map<String, JsonSchema> compiled = new ConcurrentHashMap<>();

    /** An operation of the document: its method, its path template, and where it is in the document. */
    public record Operation(String method, String path, String pointer, Pattern pattern, int templated) {
        public String key() {
            return method + " " + path;
        }
    }

    private ApiContract() {
        try (InputStream in = ApiContract.class.getClassLoader().getResourceAsStream("openapi/openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("no openapi/openapi.json on the class path: run the build");
            }
            document = JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        var found = new ArrayList<Operation>();
        document.get("paths").properties().forEach(path -> path.getValue().properties().forEach(entry -> {
            if (!entry.getKey().equals("parameters")) {
                String template = path.getKey();
                Pattern pattern = Pattern.compile(Pattern.quote(template).replaceAll("\\{[^}]+}", "\\\\E[^/]+\\\\Q"));
                found.add(new Operation(entry.getKey().toUpperCase(Locale.ROOT), template,
                        "/paths/" + escape(template) + "/" + entry.getKey(), pattern,
                        (int) template.chars().filter(c -> c == '{').count()));
            }
        }));
        // A path without templates wins over one with them (OpenAPI's rule): /v1/robots/repair is not robot "repair".
        found.sort(Comparator.comparingInt(Operation::templated));
        operations = List.copyOf(found);
    }

    public static ApiContract get() {
        return INSTANCE;
    }

    public JsonNode document() {
        return document;
    }

    public List<Operation> operations() {
        return operations;
    }

    /** "METHOD /path/{param}" of every operation. */
    public Set<String> operationKeys() {
        var keys = new TreeSet<String>();
        operations.forEach(operation -> keys.add(operation.key()));
        return keys;
    }

    public static boolean pending(String key) {
        return ADDED_BY_OTHER_BRANCHES_NOT_YET_REQUIRED.containsKey(key);
    }

    /** What is wrong with {@code response} as an answer of this API; empty when the document allows it. */
    public List<String> violations(HttpResponse<String> response) {
        // A HEAD is its GET without the body (RFC 9110): checked as that operation, on its status and headers.
        String method = response.request().method().equals("HEAD") ? "GET" : response.request().method();
        URI uri = response.request().uri();
        String path = uri.getRawPath();
        int status = response.statusCode();
        var errors = new ArrayList<String>();
        // The path first (a concrete one before templated ones), then the method among that path's operations.
        Optional<String> template = operations.stream()
                .filter(candidate -> candidate.pattern().matcher(path).matches())
                .map(Operation::path)
                .findFirst();
        Optional<Operation> operation = operations.stream()
                .filter(candidate -> candidate.path().equals(template.orElse(null)) && candidate.method().equals(method))
                .findFirst();
        boolean preflight = method.equals("OPTIONS")
                && response.request().headers().firstValue("Access-Control-Request-Method").isPresent();
        if (operation.isEmpty() && preflight && status < 400) {
            return errors; // CORS answers preflights for every path (the document's description says so)
        }
        if (operation.isEmpty() && (pending(method + " " + path) || method.equals("GET") && path.startsWith("/docs/"))) {
            return errors; // the docs page's own scripts and styles: the document names them under /docs, not each
        }
        if (operation.isEmpty()) {
            // No operation: an unknown path (404), a method the path lacks (405), or a request refused before routing.
            String answer = template.isPresent() && status == 405 ? "/components/responses/MethodNotAllowed" : null;
            if (answer != null) {
                checkResponse(response, answer, errors);
            } else if (status < 400) {
                errors.add("%s %s is no operation of the document, yet it answered %d".formatted(method, path, status));
            } else {
                checkProblem(response, errors);
            }
            return errors;
        }
        if (pending(operation.get().key())) {
            return errors;
        }
        JsonNode responses = document.at(operation.get().pointer() + "/responses");
        String key = String.valueOf(status);
        if (!responses.has(key)) {
            errors.add("%s answered %d, which the document does not list for it (%s)".formatted(
                    operation.get().key(), status, fieldNames(responses)));
            return errors;
        }
        checkResponse(response, operation.get().pointer() + "/responses/" + key, errors);
        return errors.stream().map(error -> operation.get().key() + " " + status + ": " + error).toList();
    }

    /**
     * Headers a client acts on (validators, where to go, when to retry, what is allowed, how to cache): an answer that
     * carries one must be an answer the document says carries it, or a client reading the document never learns it.
     */
    static final List<String> CONTRACT_HEADERS = List.of("ETag", "Last-Modified", "Cache-Control", "Location",
            "Retry-After", "Idempotent-Replayed", "Allow", "WWW-Authenticate");

    private void checkResponse(HttpResponse<String> response, String at, List<String> errors) {
        String pointer = resolve(at);
        JsonNode answer = document.at(pointer);
        for (String name : CONTRACT_HEADERS) {
            boolean described = false;
            for (Iterator<String> it = answer.path("headers").fieldNames(); it.hasNext(); ) {
                described |= it.next().equalsIgnoreCase(name);
            }
            if (!described && response.headers().firstValue(name).isPresent() && !pending("header " + name)) {
                errors.add("the header " + name + " is sent but the document does not describe it here");
            }
        }
        answer.path("headers").properties().forEach(header -> {
            String headerPointer = resolve(pointer + "/headers/" + escape(header.getKey()));
            JsonNode spec = document.at(headerPointer);
            Optional<String> value = response.headers().firstValue(header.getKey());
            if (value.isEmpty()) {
                if (spec.path("required").asBoolean(false) && !pending("header " + header.getKey())) {
                    errors.add("the required header " + header.getKey() + " is missing");
                }
                return;
            }
            validate(headerPointer + "/schema", TextNode.valueOf(value.get()), "header " + header.getKey(), errors);
        });
        JsonNode content = answer.path("content");
        String body = response.body();
        if (response.request().method().equals("HEAD")) {
            if (body != null && !body.isEmpty()) {
                errors.add("a HEAD answer has a body: " + shorten(body));
            }
            return;
        }
        if (content.isMissingNode() || content.isEmpty()) {
            if (body != null && !body.isEmpty()) {
                errors.add("the document says no body, but there is one: " + shorten(body));
            }
            return;
        }
        String type = response.headers().firstValue("Content-Type").orElse("");
        String mediaType = type.split(";")[0].strip().toLowerCase(Locale.ROOT);
        if (!content.has(mediaType)) {
            errors.add("Content-Type '%s' is not one of %s".formatted(type, fieldNames(content)));
            return;
        }
        String schemaPointer = pointer + "/content/" + escape(mediaType) + "/schema";
        if (mediaType.endsWith("json")) {
            JsonNode parsed;
            try {
                parsed = JSON.readTree(body);
            } catch (IOException e) {
                errors.add("the body is not JSON: " + shorten(body));
                return;
            }
            validate(schemaPointer, parsed, "body", errors);
        } else {
            validate(schemaPointer, TextNode.valueOf(body), "body", errors);
        }
    }

    /** Any refusal outside the document's operations must still be a problem+json. */
    private void checkProblem(HttpResponse<String> response, List<String> errors) {
        String type = response.headers().firstValue("Content-Type").orElse("");
        if (!type.startsWith("application/problem+json")) {
            errors.add("%s %s answered %d as '%s', not application/problem+json".formatted(
                    response.request().method(), response.request().uri().getRawPath(), response.statusCode(), type));
            return;
        }
        if (response.request().method().equals("HEAD")) {
            return;
        }
        try {
            validate("/components/schemas/Problem", JSON.readTree(response.body()), "problem", errors);
        } catch (IOException e) {
            errors.add("the problem is not JSON: " + shorten(response.body()));
        }
    }

    /** Validates {@code value} against the schema at {@code pointer} of the document (its $refs resolved there). */
    public void validate(String pointer, JsonNode value, String what, List<String> errors) {
        JsonSchema schema = compiled.computeIfAbsent(pointer,
                at -> schemas.getSchema(SchemaLocation.of(LOCATION + "#" + at)));
        for (ValidationMessage message : schema.validate(value)) {
            errors.add(what + ": " + message.getMessage() + " in " + shorten(value.toString()));
        }
    }

    /** The pointer that a {@code $ref} at {@code pointer} leads to (or {@code pointer} itself). */
    public String resolve(String pointer) {
        JsonNode node = document.at(pointer);
        while (node.has("$ref")) {
            pointer = node.get("$ref").asText().substring(1);
            node = document.at(pointer);
        }
        return pointer;
    }

    public static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }

    private static List<String> fieldNames(JsonNode node) {
        var names = new ArrayList<String>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    private static String shorten(String text) {
        return text.length() <= 300 ? text : text.substring(0, 300) + "...";
    }
}
