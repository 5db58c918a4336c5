package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.yaml.snakeyaml.Yaml;

/**
 * The dashboard and the alert policies in deploy/monitoring read metrics that the service serves: it runs, gets some
 * traffic, and its metrics port is scraped; every metric a PromQL query names must be there, with every label the
 * query groups by.
 */
class DashboardQueriesTest {
    private static final Path MONITORING = Path.of("deploy", "monitoring");
    /** PromQL words that are not metric names. */
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "offset", "bool", "inf", "nan");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");

    @RegisterExtension
    static final RunningService service = RunningService.onFresh("h2");
    private static String metrics;

    @BeforeAll
    static void scrapeAfterSomeTraffic() throws InterruptedException {
        long id = service.create("watched");
        for (int i = 0; i < 5; i++) {
            service.get("/v1/robots/" + id);
        }
        service.get("/v1/robots/999999");
        service.get("/v1/robots?limit=10");
        service.send("POST", "/v1/robots/" + id + "/repair", null, null);
        service.awaitFlushed();
        metrics = service.scrape();
    }

    /** Every PromQL query of the dashboard and of the alert policies, with where it comes from. */
    static Map<String, String> queries() throws IOException {
        var queries = new java.util.LinkedHashMap<String, String>();
        var dashboard = new JsonObject(Files.readString(MONITORING.resolve("dashboard.json")));
        JsonArray tiles = dashboard.getJsonObject("mosaicLayout").getJsonArray("tiles");
        for (int t = 0; t < tiles.size(); t++) {
            var widget = tiles.getJsonObject(t).getJsonObject("widget");
            JsonArray dataSets = widget.getJsonObject("xyChart").getJsonArray("dataSets");
            for (int d = 0; d < dataSets.size(); d++) {
                queries.put(dataSets.getJsonObject(d).getJsonObject("timeSeriesQuery").getString("prometheusQuery"),
                        "dashboard: " + widget.getString("title"));
            }
        }
        try (var files = Files.list(MONITORING.resolve("alerts"))) {
            for (Path file : files.sorted().toList()) {
                Map<String, Object> policy = new Yaml().load(Files.readString(file));
                @SuppressWarnings("unchecked")
                var conditions = (List<Map<String, Map<String, String>>>) policy.get("conditions");
                for (var condition : conditions) {
                    queries.put(condition.get("conditionPrometheusQueryLanguage").get("query"), file.toString());
                }
            }
        }
        return queries;
    }

    /** The metric names in a PromQL query: identifiers that are not functions, keywords, labels or durations. */
    static Set<String> metricNames(String query) {
        String bare = query.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"") // label values
                .replaceAll("\\{[^}]*}", "") // label matchers
                .replaceAll("\\[[^]]*]", "") // ranges and subqueries
                .replaceAll(GROUPING.pattern(), ""); // grouping labels
        var names = new LinkedHashSet<String>();
        Matcher identifier = IDENTIFIER.matcher(bare);
        while (identifier.find()) {
            boolean function = identifier.group(2) != null;
            String word = identifier.group(1);
            if (!function && !KEYWORDS.contains(word.toLowerCase())) {
                names.add(word);
            }
        }
        return names;
    }

    /** The labels a query groups by. */
    static Set<String> groupingLabels(String query) {
        var labels = new LinkedHashSet<String>();
        Matcher grouping = GROUPING.matcher(query);
        while (grouping.find()) {
            for (String label : grouping.group(1).split(",")) {
                if (!label.isBlank()) {
                    labels.add(label.strip());
                }
            }
        }
        return labels;
    }

    private static List<String> samples(String metric) {
        return metrics.lines().filter(line -> line.startsWith(metric + "{") || line.startsWith(metric + " ")).toList();
    }

    @Test
    void the_query_parser_finds_metrics_and_only_metrics() {
        assertThat(metricNames("histogram_quantile(0.99, sum by (le) (rate(http_server_requests_seconds_bucket"
                + "{route!~\"/healthz|/readyz\"}[5m])))")).containsExactly("http_server_requests_seconds_bucket");
        assertThat(metricNames("deriv(sum(robots_references_pending)[15m:1m]) > 0 and sum(robots_references_pending)"
                + " > 1e3")).containsExactly("robots_references_pending");
        assertThat(groupingLabels("sum by (status, route) (rate(x[5m]))")).containsExactly("status", "route");
    }

    @Test
    void every_metric_a_query_names_is_served() throws IOException {
        var queries = queries();
        assertThat(queries).hasSizeGreaterThanOrEqualTo(15);
        var missing = new ArrayList<String>();
        var named = new LinkedHashSet<String>();
        queries.forEach((query, source) -> {
            for (String metric : metricNames(query)) {
                named.add(metric);
                if (samples(metric).isEmpty()) {
                    missing.add(metric + " (" + source + ")");
                }
            }
        });
        assertThat(missing).as("metrics the queries name and the service does not serve").isEmpty();
    }

    @Test
    void every_label_a_query_groups_by_is_on_its_metrics() throws IOException {
        queries().forEach((query, source) -> {
            var served = metricNames(query);
            for (String label : groupingLabels(query)) {
                if (served.isEmpty()) {
                    continue;
                }
                assertThat(served.stream().flatMap(m -> samples(m).stream()))
                        .as("label %s of %s in %s", label, served, source)
                        .anyMatch(sample -> sample.contains("{" + label + "=\"") || sample.contains("," + label + "=\""));
            }
        });
    }

    /**
     * The label matchers too, which {@link #metricNames} strips: a query that selects {@code result="hits"} or
     * {@code pool_type="sq"} names a served metric and still draws nothing. An equality names a label and a value
     * some sample has; a regular expression or a negation, a label the metric has (its values may not have occurred
     * yet: no 5xx in this traffic).
     */
    @Test
    void every_label_a_query_selects_on_is_on_its_metric() throws IOException {
        var selector = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{([^}]*)}");
        var matcher = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:\\\\.|[^\"\\\\])*)\"");
        var wrong = new ArrayList<String>();
        queries().forEach((query, source) -> {
            Matcher selected = selector.matcher(query);
            while (selected.find()) {
                String metric = selected.group(1);
                Matcher each = matcher.matcher(selected.group(2));
                while (each.find()) {
                    String label = each.group(1);
                    String wanted = "=".equals(each.group(2)) ? label + "=\"" + each.group(3) + "\"" : label + "=\"";
                    if (samples(metric).stream().noneMatch(sample -> sample.contains("{" + wanted)
                            || sample.contains("," + wanted))) {
                        wrong.add(metric + " " + each.group() + " (" + source + ")");
                    }
                }
            }
        });
        assertThat(wrong).as("label matchers no sample has").isEmpty();
    }

    /**
     * A gauge that every instance reads from the shared database ({@code # HELP ... on all instances}) reports the
     * same total on each instance: summed over instances it shows N times the queue, and a scale-out looks like the
     * queue growing. Such gauges are taken with max (or min, avg), never summed.
     */
    @Test
    void a_gauge_of_all_instances_is_never_summed_over_them() throws IOException {
        var shared = new LinkedHashSet<String>();
        var help = Pattern.compile("(?m)^# HELP (\\S+) .*on all instances.*$").matcher(metrics);
        while (help.find()) {
            shared.add(help.group(1));
        }
        assertThat(shared).contains("robots_repairs_queued", "robots_repairs_running");
        var summed = new ArrayList<String>();
        queries().forEach((query, source) -> {
            for (String metric : shared) {
                if (Pattern.compile("\\bsum\\s*(?:(?:by|without)\\s*\\([^)]*\\)\\s*)?\\(\\s*"
                        + Pattern.quote(metric) + "\\b").matcher(query).find()) {
                    summed.add(metric + " in " + query + " (" + source + ")");
                }
            }
        });
        assertThat(summed).as("gauges of all instances summed over instances").isEmpty();
    }

    /**
     * Requests and latency are the API's: the filter left out only the probes, so a scanner's 404s (route
     * "unmatched"), the documentation files and a slow client's 408s moved the error share and the p99 (a black-box
     * finding). Every selector of the request metrics keeps to the API's routes.
     */
    @Test
    void request_queries_count_the_apis_routes_only() throws IOException {
        var selector = Pattern.compile("http_server_requests_seconds_(?:count|bucket)(\\{[^}]*})?");
        queries().forEach((query, source) -> {
            Matcher each = selector.matcher(query);
            while (each.find()) {
                assertThat(each.group(1)).as("%s in %s", each.group(), source).isNotNull()
                        .containsAnyOf("route=~\"/v1/.*\"", "route=\"/v1/robots/:id\"");
                if (each.group().contains("_bucket")) {
                    assertThat(each.group(1)).as("%s in %s", each.group(), source).contains("status!=\"408\"");
                }
            }
        });
    }

    @Test
    void the_dashboard_shows_what_operators_asked_for() throws IOException {
        var named = new LinkedHashSet<String>();
        queries().keySet().forEach(query -> named.addAll(metricNames(query)));
        assertThat(named).contains("http_server_requests_seconds_count", "http_server_requests_seconds_bucket",
                "robots_http_rejections_total", "robots_references_pending", "robots_count_flush_seconds_bucket",
                "robots_count_flush_failures_total", "robots_cache_requests_total", "vertx_pool_queue_pending",
                "robots_repairs_queued", "robots_repairs_oldest_age_seconds");
    }
}
