package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.yaml.snakeyaml.Yaml;

/**
 * The Cloud Run, GKE, App Engine and Istio manifests agree with the server they deploy, with each other, with the
 * runbook's database, and with the build that makes their image.
 */
class DeployManifestsTest {
    private static final Path DEPLOY = Path.of("deploy");
    /** What the GKE pod's grace period must leave over preStop and SHUTDOWN_TIMEOUT: the proxy's exit, and slack. */
    private static final int GRACE_MARGIN_SECONDS = 2;
    /**
     * Connections per instance besides DB_POOL_SIZE: the flusher's and background pool (2), the cache listener (2), the
     * repair worker (2).
     */
    private static final int OTHER_CONNECTIONS = 6;
    /** Connections of max_connections that are not the service's: superusers' reserve, Cloud SQL's agent, psql. */
    private static final int RESERVED_CONNECTIONS = 10;
    @RegisterExtension
    static final RunningService service = RunningService.onFresh("h2");

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

    private static int port(Map<String, Object> container, String name) {
        List<Map<String, Object>> ports = at(container, "ports");
        return ports.stream().filter(p -> name.equals(p.get("name"))).map(p -> (Integer) p.get("containerPort"))
                .findFirst().orElseThrow(() -> new AssertionError("no port named " + name));
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

    /** The connections the service may use of the runbook's {@code max_connections}. */
    private static int connectionBudget() throws IOException {
        var flag = Pattern.compile("--database-flags=max_connections=(\\d+)")
                .matcher(Files.readString(DEPLOY.resolve("README.md")));
        assertThat(flag.find()).as("the runbook sets max_connections").isTrue();
        return Integer.parseInt(flag.group(1)) - RESERVED_CONNECTIONS;
    }

    /**
     * What {@code kubectl apply -k deploy/k8s} applies: {@code kubectl kustomize}'s output where kubectl is installed;
     * elsewhere the kustomization's resources, read as kustomize reads them (it has nothing to transform them with).
     */
    private static List<Map<String, Object>> renderedK8s() throws IOException, InterruptedException {
        Map<String, Object> kustomization = yaml("k8s/kustomization.yaml");
        assertThat(kustomization.keySet()).as("nothing that would change the objects").containsOnly(
                "apiVersion", "kind", "resources");
        String rendered;
        if (onPath("kubectl")) {
            var process = new ProcessBuilder("kubectl", "kustomize", DEPLOY.resolve("k8s").toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            rendered = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as("kubectl kustomize deploy/k8s").isZero();
        } else {
            List<String> resources = at(kustomization, "resources");
            var joined = new StringBuilder();
            for (String resource : resources) {
                joined.append("---\n").append(Files.readString(DEPLOY.resolve("k8s").resolve(resource)));
            }
            rendered = joined.toString();
        }
        var objects = new ArrayList<Map<String, Object>>();
        for (Object document : new Yaml().loadAll(rendered)) {
            if (document != null) {
                @SuppressWarnings("unchecked")
                var object = (Map<String, Object>) document;
                objects.add(object);
            }
        }
        return objects;
    }

    private static boolean onPath(String command) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
    }

    private static Map<String, Object> only(List<Map<String, Object>> objects, String kind) {
        var found = objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
        assertThat(found).as(kind).hasSize(1);
        return found.getFirst();
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
        assertThat(variables).filteredOn(v -> v.get("valueFrom") != null)
                .allSatisfy(v -> assertThat((String) at(v, "valueFrom", "secretKeyRef", "key")).as("pinned version")
                        .matches("\\d+"));
        assertThat((String) at(container, "image")).endsWith("/" + pomImage() + ":latest");
        int instances = Integer.parseInt(annotations.get("autoscaling.knative.dev/maxScale"));
        assertThat(instances * (Integer.parseInt(env(container, "DB_POOL_SIZE")) + OTHER_CONNECTIONS))
                .as("connections at maxScale").isLessThanOrEqualTo(connectionBudget());
    }

    /** The Managed Service for Prometheus sidecar scrapes METRICS_PORT, which only the sidecar can reach. */
    @Test
    void cloud_run_has_its_metrics_scraped_by_the_collector_beside_it() throws IOException {
        var manifest = yaml("cloudrun/service.yaml");
        Map<String, Object> spec = at(manifest, "spec", "template", "spec");
        List<Map<String, Object>> containers = at(spec, "containers");
        var app = containers.getFirst();
        var collector = containers.stream().filter(c -> "collector".equals(c.get("name"))).findFirst().orElseThrow();
        assertThat((String) collector.get("image")).contains("cloud-run-gmp-sidecar");
        assertThat(containers).filteredOn(c -> c.get("ports") != null).as("one ingress container").containsOnly(app);
        assertThat((String) at(manifest, "spec", "template", "metadata", "annotations",
                "run.googleapis.com/container-dependencies")).isEqualTo("{\"collector\":[\"" + app.get("name") + "\"]}");

        var runMonitoring = yaml("cloudrun/runmonitoring.yaml");
        assertThat((String) at(runMonitoring, "kind")).isEqualTo("RunMonitoring");
        String metricsPort = env(app, "METRICS_PORT");
        assertThat(metricsPort).isNotEqualTo(Integer.toString((Integer) at(app, "ports", 0, "containerPort")));
        assertThat((String) at(runMonitoring, "spec", "endpoints", 0, "port")).isEqualTo(metricsPort);
        assertThat((String) at(runMonitoring, "spec", "endpoints", 0, "path")).isEqualTo("/metrics");

        // The config reaches /etc/rungmp/config.yaml, where the collector reads it.
        String volume = at(collector, "volumeMounts", 0, "name");
        assertThat((String) at(collector, "volumeMounts", 0, "mountPath")).isEqualTo("/etc/rungmp/");
        List<Map<String, Object>> volumes = at(spec, "volumes");
        var config = volumes.stream().filter(v -> volume.equals(v.get("name"))).findFirst().orElseThrow();
        assertThat((String) at(config, "secret", "items", 0, "path")).isEqualTo("config.yaml");
        assertThat((String) at(config, "secret", "secretName")).isEqualTo("robots-run-monitoring");
        assertThat(Files.readString(DEPLOY.resolve("README.md")))
                .contains("gcloud secrets create robots-run-monitoring --data-file=deploy/cloudrun/runmonitoring.yaml");
    }

    @Test
    void gke_renders_every_object_once_and_wires_them_together() throws Exception {
        var objects = renderedK8s();
        assertThat(objects).extracting(o -> (String) o.get("kind")).containsExactlyInAnyOrder(
                "ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                "PodMonitoring");
        var deployment = only(objects, "Deployment");
        var serviceAccount = only(objects, "ServiceAccount");
        var k8sService = only(objects, "Service");
        var hpa = only(objects, "HorizontalPodAutoscaler");
        var pdb = only(objects, "PodDisruptionBudget");
        var podMonitoring = only(objects, "PodMonitoring");
        Map<String, Object> pod = at(deployment, "spec", "template", "spec");
        Map<String, Object> container = at(pod, "containers", 0);

        assertThat((String) at(pod, "serviceAccountName")).isEqualTo(at(serviceAccount, "metadata", "name"));
        assertThat((String) at(serviceAccount, "metadata", "annotations", "iam.gke.io/gcp-service-account"))
                .as("the Google service account of the runbook and the Cloud Run service")
                .isEqualTo(at(yaml("cloudrun/service.yaml"), "spec", "template", "spec", "serviceAccountName"));

        Map<String, String> labels = at(deployment, "spec", "template", "metadata", "labels");
        assertThat(labels).containsAllEntriesOf(at(deployment, "spec", "selector", "matchLabels"));
        assertThat(labels).containsAllEntriesOf(at(k8sService, "spec", "selector"));
        assertThat(labels).containsAllEntriesOf(at(pdb, "spec", "selector", "matchLabels"));
        assertThat(labels).containsAllEntriesOf(at(podMonitoring, "spec", "selector", "matchLabels"));
        assertThat((String) at(hpa, "spec", "scaleTargetRef", "name")).isEqualTo(at(deployment, "metadata", "name"));

        assertThat(port(container, "http")).isEqualTo(Integer.parseInt(env(container, "PORT")));
        assertThat((String) at(k8sService, "spec", "ports", 0, "targetPort")).isEqualTo("http");
        List<Map<String, Object>> servicePorts = at(k8sService, "spec", "ports");
        assertThat(servicePorts).as("the metrics port stays off the Service")
                .noneMatch(p -> "metrics".equals(p.get("targetPort")));
        assertThat(port(container, "metrics")).isEqualTo(Integer.parseInt(env(container, "METRICS_PORT")))
                .isNotEqualTo(port(container, "http"));
        assertThat((String) at(podMonitoring, "spec", "endpoints", 0, "port")).isEqualTo("metrics");
        assertThat((String) at(podMonitoring, "spec", "endpoints", 0, "path")).isEqualTo("/metrics");

        assertProbesAnswer(container, "startupProbe", "readinessProbe", "livenessProbe");
        // Not /readyz, which fails on every pod at once while the database is away: the Service would refuse every
        // request, even the reads the cache answers. The startupProbe gates the start on the database.
        assertThat((String) at(container, "readinessProbe", "httpGet", "path")).isEqualTo("/healthz");
        assertThat((String) at(container, "startupProbe", "httpGet", "path")).isEqualTo("/readyz");
        assertThat((String) at(container, "image")).endsWith("/" + pomImage() + ":latest");
    }

    @Test
    void gke_pods_stay_inside_the_connection_budget() throws Exception {
        var objects = renderedK8s();
        var deployment = only(objects, "Deployment");
        Map<String, Object> container = at(deployment, "spec", "template", "spec", "containers", 0);
        // The JVM counts its cores from the CPU limit; without one it sees the node's and opens a loop per core.
        assertThat((String) at(container, "resources", "limits", "cpu")).isNotBlank();

        int pods = (Integer) at(only(objects, "HorizontalPodAutoscaler"), "spec", "maxReplicas")
                + (Integer) at(deployment, "spec", "strategy", "rollingUpdate", "maxSurge");
        assertThat(pods * (Integer.parseInt(env(container, "DB_POOL_SIZE")) + OTHER_CONNECTIONS))
                .as("connections at maxReplicas during a rollout").isLessThanOrEqualTo(connectionBudget());
    }

    /**
     * The pod's termination: preStop, then SHUTDOWN_TIMEOUT for the app, whose last flush needs the proxy; the proxy
     * is a native sidecar, so it is stopped only after the app has exited, all within the grace period.
     */
    @Test
    void gke_gives_the_shutdown_its_time_and_the_proxy_outlives_the_app() throws Exception {
        var deployment = only(renderedK8s(), "Deployment");
        Map<String, Object> pod = at(deployment, "spec", "template", "spec");
        Map<String, Object> container = at(pod, "containers", 0);

        int shutdown = Integer.parseInt(env(container, "SHUTDOWN_TIMEOUT"));
        int preStop = at(container, "lifecycle", "preStop", "sleep", "seconds");
        assertThat((Integer) at(pod, "terminationGracePeriodSeconds"))
                .isGreaterThanOrEqualTo(preStop + shutdown + GRACE_MARGIN_SECONDS);

        List<Map<String, Object>> containers = at(pod, "containers");
        assertThat(containers).as("the proxy is not a plain container")
                .noneMatch(c -> ((String) c.get("image")).contains("cloud-sql-proxy"));
        List<Map<String, Object>> initContainers = at(pod, "initContainers");
        var proxy = initContainers.stream().filter(c -> ((String) c.get("image")).contains("cloud-sql-proxy"))
                .findFirst().orElseThrow();
        assertThat((String) proxy.get("restartPolicy")).as("a native sidecar").isEqualTo("Always");
        List<String> args = at(proxy, "args");
        assertThat(args).contains("--health-check", "--structured-logs", "--exit-zero-on-sigterm", "--port=5432")
                .doesNotContain("--private-ip") // the runbook's instance has a public IP only
                .noneMatch(arg -> arg.startsWith("--max-sigterm-delay") || arg.startsWith("--min-sigterm-delay"));
        var httpPort = args.stream().filter(a -> a.startsWith("--http-port=")).findFirst().orElseThrow();
        int proxyHealth = Integer.parseInt(httpPort.substring("--http-port=".length()));
        assertThat(proxyHealth).as("not the app's ports").isNotIn(port(container, "http"), port(container, "metrics"));
        assertThat(args).contains("--http-address=0.0.0.0"); // the kubelet probes the pod's address
        assertThat((String) at(proxy, "startupProbe", "httpGet", "path")).isEqualTo("/startup");
        assertThat(port(proxy, (String) at(proxy, "startupProbe", "httpGet", "port"))).isEqualTo(proxyHealth);

        var version = Pattern.compile(":(\\d+)\\.(\\d+)\\.\\d+$").matcher((String) proxy.get("image"));
        assertThat(version.find()).isTrue();
        assertThat(Integer.parseInt(version.group(1)) * 100 + Integer.parseInt(version.group(2)))
                .as("a current 2.x proxy").isGreaterThanOrEqualTo(220);
    }

    @Test
    void app_engine_runs_the_image_on_the_instances_socket_with_our_probes() throws IOException {
        var app = yaml("appengine/app.yaml");
        assertThat(app).containsEntry("runtime", "custom").containsEntry("env", "flex");
        Map<String, String> cloudRunAnnotations = at(yaml("cloudrun/service.yaml"), "spec", "template", "metadata",
                "annotations");
        assertThat((String) at(app, "beta_settings", "cloud_sql_instances"))
                .isEqualTo(cloudRunAnnotations.get("run.googleapis.com/cloudsql-instances"));
        assertThat((String) app.get("service_account"))
                .isEqualTo(at(yaml("cloudrun/service.yaml"), "spec", "template", "spec", "serviceAccountName"));

        String liveness = at(app, "liveness_check", "path");
        String readiness = at(app, "readiness_check", "path");
        assertThat(liveness).isEqualTo("/healthz");
        assertThat(readiness).as("not /readyz: an outage of the database would take every instance out at once")
                .isEqualTo("/healthz");
        assertThat(service.get(liveness).statusCode()).isEqualTo(200);
        assertThat(service.get(readiness).statusCode()).isEqualTo(200);

        Map<String, String> env = at(app, "env_variables");
        assertThat(env).containsEntry("PORT", "8080").containsEntry("LOG_FORMAT", "json");
        assertThat(env.get("METRICS_PORT")).isNotEqualTo(env.get("PORT"));
        assertThat(Integer.parseInt(env.get("SHUTDOWN_TIMEOUT"))).isLessThan(10);
        assertThat(env.get("DATABASE_URL")).as("a placeholder, never a secret").isEqualTo("SECRET_DATABASE_URL");
        assertThat(env.get("API_TOKENS")).isEqualTo("SECRET_API_TOKENS");
        assertThat(Files.readString(DEPLOY.resolve("README.md"))).contains("s|SECRET_DATABASE_URL|", "s|SECRET_API_TOKENS|");

        // Sized like the Cloud Run service.
        Map<String, Object> cloudRun = at(yaml("cloudrun/service.yaml"), "spec", "template", "spec", "containers", 0);
        assertThat((Integer) at(app, "resources", "cpu")).isEqualTo(Integer.parseInt(at(cloudRun, "resources",
                "limits", "cpu")));
        int instances = at(app, "automatic_scaling", "max_num_instances");
        assertThat(instances).isLessThanOrEqualTo(Integer.parseInt(cloudRunAnnotations.get("autoscaling.knative.dev/maxScale")));
        assertThat(instances * (Integer.parseInt(env.get("DB_POOL_SIZE")) + OTHER_CONNECTIONS))
                .isLessThanOrEqualTo(connectionBudget());
    }

    @Test
    void istio_routes_through_a_gateway_that_exists_and_never_retries_a_counted_get() throws IOException {
        var virtualService = yaml("istio/virtualservice.yaml");
        var gateway = yaml("istio/gateway.yaml");
        assertThat((String) gateway.get("kind")).isEqualTo("Gateway");
        List<String> gateways = at(virtualService, "spec", "gateways");
        String gatewayName = at(gateway, "metadata", "name");
        assertThat(gateways).containsExactly(gatewayName);
        List<String> servedHosts = at(gateway, "spec", "servers", 0, "hosts");
        List<String> routedHosts = at(virtualService, "spec", "hosts");
        assertThat(servedHosts).containsAll(routedHosts);
        List<Map<String, Object>> routes = at(virtualService, "spec", "http");
        for (var route : routes) {
            if (route.get("match") == null) {
                // Writes too: Istio's default retries a request twice, and a second POST is a second robot.
                assertThat((Integer) at(route, "retries", "attempts")).as("retries of other requests").isZero();
            }
            String retryOn = at(route, "retries", "retryOn");
            if (retryOn != null) {
                // A GET that got its 200 was counted: a reset or a timeout may follow a written answer.
                assertThat(List.of(retryOn.split(","))).doesNotContain("reset", "5xx", "gateway-error", "504");
                assertThat((String) at(route, "retries", "perTryTimeout")).isNull();
            }
        }
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

    /**
     * The AOT cache is recorded under the smallest instance's memory (compressed oops on, as they will be there), the
     * image keeps the jars the training run saw, and the build fails if the cache would not be used.
     */
    @Test
    void the_images_aot_cache_is_trained_and_checked_under_512_mib() throws IOException {
        String dockerfile = Files.readString(Path.of("Dockerfile")).replace("\\\n", " ");
        var training = Pattern.compile("JAVA_OPTS=\"([^\"]+)\"").matcher(dockerfile);
        assertThat(training.find()).isTrue();
        assertThat(training.group(1).split("\\s+")).contains("-XX:MaxRAM=512m");

        String finalStage = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
        assertThat(finalStage).contains("COPY --from=train /app /app").doesNotContain("COPY --from=build");
        var check = Pattern.compile("^RUN java (.*)$", Pattern.MULTILINE).matcher(finalStage);
        assertThat(check.find()).as("a RUN java step in the final stage").isTrue();
        var words = List.of(check.group(1).trim().split("\\s+"));
        assertThat(words).contains("-XX:MaxRAM=512m", "-XX:AOTMode=on", "-XX:AOTCache=/app/robots-api.aot")
                .containsAll(JarProcess.imageJvmFlags());
    }

    @Test
    void every_manifest_parses() throws IOException {
        var files = new ArrayList<Path>();
        try (var walk = Files.walk(DEPLOY)) {
            walk.filter(p -> p.toString().endsWith(".yaml")).forEach(files::add);
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(16);
        for (Path file : files) {
            Map<String, Object> manifest = new Yaml().load(Files.readString(file));
            String dir = DEPLOY.relativize(file).getName(0).toString();
            switch (dir) {
                case "appengine" -> assertThat(manifest).as(file.toString()).containsKeys("runtime", "env");
                case "monitoring" -> assertThat(manifest).as(file.toString())
                        .containsKeys("displayName", "combiner", "conditions");
                default -> {
                    if (file.getFileName().toString().equals("kustomization.yaml")) {
                        assertThat(manifest).containsKeys("apiVersion", "kind", "resources");
                    } else if ("ServiceAccount".equals(manifest.get("kind"))) {
                        assertThat(manifest).containsKeys("apiVersion", "kind", "metadata");
                    } else {
                        assertThat(manifest).as(file.toString()).containsKeys("apiVersion", "kind", "metadata", "spec");
                    }
                }
            }
        }
        Map<String, Object> dashboard = new io.vertx.core.json.JsonObject(
                Files.readString(DEPLOY.resolve("monitoring/dashboard.json"))).getMap();
        assertThat(dashboard).containsKeys("displayName", "mosaicLayout");
    }

    /**
     * Every variable a manifest or the image sets is one the service reads (a misspelt one is silently ignored, and the
     * default runs instead), with a value its configuration accepts; secrets and their placeholders stand for a valid
     * token or URL.
     */
    @Test
    void every_variable_the_deploys_set_is_read_and_accepted() throws Exception {
        var read = dev.robots.config.VariablesRead.all();

        var deploys = new java.util.LinkedHashMap<String, Map<String, String>>();
        Map<String, Object> cloudRun = at(yaml("cloudrun/service.yaml"), "spec", "template", "spec", "containers", 0);
        Map<String, Object> gke = at(only(renderedK8s(), "Deployment"), "spec", "template", "spec", "containers", 0);
        for (var entry : Map.of("cloudrun/service.yaml", cloudRun, "k8s/deployment.yaml", gke).entrySet()) {
            var env = new java.util.LinkedHashMap<String, String>();
            List<Map<String, Object>> variables = at(entry.getValue(), "env");
            variables.forEach(v -> env.put((String) v.get("name"), v.get("value") == null ? "SECRET" : (String) v.get("value")));
            deploys.put(entry.getKey(), env);
        }
        deploys.put("appengine/app.yaml", at(yaml("appengine/app.yaml"), "env_variables"));
        var image = new java.util.LinkedHashMap<String, String>();
        var dockerEnv = Pattern.compile("(?m)^ENV (.*)$").matcher(Files.readString(Path.of("Dockerfile")));
        while (dockerEnv.find()) {
            for (String item : dockerEnv.group(1).trim().split("\\s+")) {
                image.put(item.substring(0, item.indexOf('=')), item.substring(item.indexOf('=') + 1));
            }
        }
        image.remove("MALLOC_ARENA_MAX"); // glibc's, not the service's
        deploys.put("Dockerfile", image);

        deploys.forEach((file, env) -> {
            assertThat(env.keySet()).as("variables %s sets", file).isSubsetOf(read);
            var values = new java.util.HashMap<String, String>(env);
            // Placeholders as the runbook fills them in (PROJECT_ID=my-project).
            values.replaceAll((name, value) -> value.startsWith("SECRET") && name.equals("API_TOKENS")
                    ? "a-token-of-twenty-chars" : value.replace("PROJECT_ID", "my-project"));
            values.remove("DATABASE_URL"); // a secret: DatabaseUrlSecrecyTest and the runbook cover its forms
            dev.robots.config.Config.from(values);
        });
    }

    /** Every file under deploy/k8s is in the kustomization, so that `kubectl apply -k` applies it. */
    @Test
    void the_kustomization_lists_every_file_of_its_directory() throws IOException {
        List<String> resources = at(yaml("k8s/kustomization.yaml"), "resources");
        try (var files = Files.list(DEPLOY.resolve("k8s"))) {
            assertThat(files.map(p -> p.getFileName().toString())
                    .filter(name -> !name.equals("kustomization.yaml"))
                    .collect(Collectors.toSet())).isEqualTo(Set.copyOf(resources));
        }
    }
}
