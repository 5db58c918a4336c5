import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Writes the JSON form of the OpenAPI document at build time (pom.xml runs it in process-resources), so that the
 * service serves both forms from its jar without parsing YAML at start. Usage: {@code java OpenApiJson.java IN OUT}.
 */
class OpenApiJson {
    public static void main(String[] args) throws Exception {
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Object document = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(in));
        check(document, "");
        Files.createDirectories(out.getParent());
        Files.writeString(out, new JsonObject(cast(document)).encodePrettily() + "\n");
    }

    /**
     * YAML 1.1 reads some plain scalars as what JSON has no word for (2026-12-01 as a date, 200 as a key that is not
     * a string): the build stops and names the place, so the author quotes it.
     */
    private static void check(Object node, String at) {
        if (node instanceof Map<?, ?> map) {
            map.forEach((key, value) -> {
                if (!(key instanceof String)) {
                    throw new IllegalArgumentException("quote the key " + key + " at " + at);
                }
                check(value, at + "/" + key);
            });
        } else if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                check(list.get(i), at + "/" + i);
            }
        } else if (node != null && !(node instanceof String || node instanceof Number || node instanceof Boolean)) {
            throw new IllegalArgumentException("quote the " + node.getClass().getSimpleName() + " " + node + " at " + at);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object document) {
        return (Map<String, Object>) document;
    }
}
