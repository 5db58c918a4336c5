package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The Cloud Run and GKE manifests agree with the server they deploy and with the build that makes its image. */
class DeployManifestsTest {
    private static final Path DEPLOY = Path.of("deploy");
    private static TestDatabase database;
    private static RunningService service;

    @BeforeAll
    static void start() {
        database = TestDatabase.create("h2");
        service = RunningService.start(database);
    }

    @AfterAll
    static void stop() {
        service.stop();
        database.close();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(String file) throws IOException {
        return new Yaml().load(Files.readString(DEPLOY.resolve(file)));
    }

    @SuppressWarnings("unchecked")
    private static <T> T at(Object node, Object... path) {
        Object current = node;
        for (Object step : path) {
            current = step instanceof Integer i ? ((List<Object>) current).get(i) : ((Map<String, Object>) current).get(step);
        }
        return (T) current;
    }

    private static String env(Map<String, Object> container, String name) {
        List<Map<String, Object>> env = at(container, "env");
        return env.stream().filter(e -> name.equals(e.get("name"))).map(e -> (String) e.get("value"))
                .findFirst().orElse(null);
    }

    /** Every probe path answers 200 on the real server. */
    private static void assertProbesAnswer(Map<String, Object> container, String... probes) {
        for (String probe : probes) {
            String path = at(container, probe, "httpGet", "path");
            assertThat(path).as(probe).isIn("/healthz", "/readyz");
            assertThat(service.get(path).statusCode()).as(path).isEqualTo(200);
        }
        assertThat((String) at(container, "livenessProbe", "httpGet", "path"))
                .as("liveness must not depend on the database").isEqualTo("/healthz");
    }

    private static String pomImage() throws IOException {
        var matcher = Pattern.compile("<image>([^<$]+)</image>").matcher(Files.readString(Path.of("pom.xml")));
        assertThat(matcher.find()).isTrue();
        return matcher.group(1);
    }

    @Test
    void cloud_run_keeps_cpu_for_flushes_and_probes_the_servers_paths() throws IOException {
        var service = yaml("cloudrun/service.yaml");
        assertThat((String) at(service, "apiVersion")).isEqualTo("serving.knative.dev/v1");
        Map<String, String> annotations = at(service, "spec", "template", "metadata", "annotations");
        assertThat(annotations).containsEntry("run.googleapis.com/cpu-throttling", "false")
                .containsEntry("run.googleapis.com/startup-cpu-boost", "true")
                .containsKey("run.googleapis.com/cloudsql-instances")
                .containsKeys("autoscaling.knative.dev/minScale", "autoscaling.knative.dev/maxScale");
        Map<String, Object> container = at(service, "spec", "template", "spec", "containers", 0);

        assertThat((Integer) at(container, "ports", 0, "containerPort")).isEqualTo(8080);
        assertProbesAnswer(container, "startupProbe", "livenessProbe");
        assertThat(Integer.parseInt(env(container, "SHUTDOWN_TIMEOUT"))).as("inside Cloud Run's 10 s").isLessThan(10);
        assertThat(env(container, "LOG_FORMAT")).isEqualTo("json");
        List<Map<String, Object>> variables = at(container, "env");
        assertThat(variables).anySatisfy(v -> {
            assertThat(v.get("name")).isEqualTo("DATABASE_URL");
            assertThat((String) at(v, "valueFrom", "secretKeyRef", "name")).isNotBlank();
        });
        assertThat((String) at(container, "image")).endsWith("/" + pomImage() + ":latest");
    }

    @Test
    void gke_gives_the_shutdown_its_time_and_wires_its_parts_together() throws IOException {
        var deployment = yaml("k8s/deployment.yaml");
        Map<String, Object> pod = at(deployment, "spec", "template", "spec");
        Map<String, Object> container = at(pod, "containers", 0);

        int shutdown = Integer.parseInt(env(container, "SHUTDOWN_TIMEOUT"));
        int preStop = at(container, "lifecycle", "preStop", "sleep", "seconds");
        assertThat((Integer) at(pod, "terminationGracePeriodSeconds")).isGreaterThanOrEqualTo(shutdown + preStop);
        assertThat((Integer) at(container, "ports", 0, "containerPort"))
                .isEqualTo(Integer.parseInt(env(container, "PORT")));
        assertProbesAnswer(container, "startupProbe", "readinessProbe", "livenessProbe");
        assertThat((String) at(container, "readinessProbe", "httpGet", "path")).isEqualTo("/readyz");
        assertThat((String) at(container, "image")).endsWith("/" + pomImage() + ":latest");

        Map<String, String> labels = at(deployment, "spec", "template", "metadata", "labels");
        assertThat(labels).containsAllEntriesOf(at(deployment, "spec", "selector", "matchLabels"));
        assertThat(labels).containsAllEntriesOf(at(yaml("k8s/service.yaml"), "spec", "selector"));
        assertThat(labels).containsAllEntriesOf(at(yaml("k8s/pdb.yaml"), "spec", "selector", "matchLabels"));
        assertThat((String) at(yaml("k8s/service.yaml"), "spec", "ports", 0, "targetPort"))
                .isEqualTo(at(container, "ports", 0, "name"));
        var hpa = yaml("k8s/hpa.yaml");
        assertThat((String) at(hpa, "spec", "scaleTargetRef", "name")).isEqualTo(at(deployment, "metadata", "name"));
    }

    /**
     * Jib's image and the Dockerfile's run the JVM with the same flags; only the Dockerfile's image has an AOT cache,
     * and the flags that go with it.
     */
    @Test
    void both_images_run_the_jvm_with_the_same_flags() throws IOException {
        var jib = new ArrayList<String>();
        var jvmFlag = Pattern.compile("<jvmFlag>([^<]+)</jvmFlag>").matcher(Files.readString(Path.of("pom.xml")));
        while (jvmFlag.find()) {
            jib.add(jvmFlag.group(1));
        }
        var dockerfile = JarProcess.imageJvmFlags();
        assertThat(dockerfile).contains("-XX:+UseSerialGC", "--sun-misc-unsafe-memory-access=allow",
                "-XX:-AOTReplayTraining");
        assertThat(dockerfile.stream()
                .filter(flag -> !flag.equals("-XX:+UnlockDiagnosticVMOptions") && !flag.equals("-XX:-AOTReplayTraining"))
                .toList()).isEqualTo(jib);
    }

    @Test
    void every_manifest_parses() throws IOException {
        var files = new ArrayList<Path>();
        try (var walk = Files.walk(DEPLOY)) {
            walk.filter(p -> p.toString().endsWith(".yaml")).forEach(files::add);
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(6);
        for (Path file : files) {
            Map<String, Object> manifest = new Yaml().load(Files.readString(file));
            assertThat(manifest).as(file.toString()).containsKeys("apiVersion", "kind", "metadata", "spec");
        }
    }
}
