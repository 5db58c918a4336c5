package dev.robots.observability;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.robots.http.Problems;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.util.EnumSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Prometheus metrics through Micrometer: HTTP requests and latency per route, method and status
 * ({@link RequestMetrics}), Vert.x's SQL pool use, the JVM's meters, and the service's own registered on
 * {@link #registry()}. One registry per Vert.x instance, so
 * that several services in one JVM (the tests) keep their figures apart.
 *
 * <pre>
 * curl localhost:9090/metrics        # METRICS_PORT
 * </pre>
 */
public final class Metrics {
    /** Latency buckets in seconds: what a dashboard of a fast API reads, instead of Micrometer's 69 default ones. */
    private static final double[] LATENCY_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
        5, 10};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final RequestMetrics requests;
    private JvmGcMetrics gcMetrics;
    private boolean closed;

    public Metrics() {
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                boolean timer = id.getType() == Meter.Type.TIMER;
                return DistributionStatisticConfig.builder()
                        .percentilesHistogram(false)
                        .serviceLevelObjectives(timer ? seconds(LATENCY_BUCKETS) : new double[0])
                        .build()
                        .merge(config);
            }
        });
        // After the filter: it applies only to meters registered after it, and RequestMetrics registers some at once.
        requests = new RequestMetrics(registry);
    }

    private static double[] seconds(double[] buckets) {
        return java.util.Arrays.stream(buckets).map(s -> s * 1e9).toArray();
    }

    /** Vert.x with {@code options}, {@code transport} and this registry as its metrics backend. */
    public Vertx newVertx(VertxOptions options, Transport transport) {
        var metricsOptions = new MicrometerMetricsOptions()
                .setEnabled(true)
                .setJvmMetricsEnabled(false)
                .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
                .setLabels(EnumSet.of(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE,
                        Label.POOL_NAME))
                // Only what is read: per-connection and event-bus meters would cost every request for nothing.
                // HTTP server requests are measured by RequestMetrics, at a fraction of the cost. Vert.x compares
                // the domains' categories ("http.server"), not their enum names, which disabled nothing.
                .setDisabledMetricsCategories(Stream.of(MetricsDomain.HTTP_SERVER, MetricsDomain.EVENT_BUS,
                                MetricsDomain.NET_SERVER, MetricsDomain.NET_CLIENT, MetricsDomain.DATAGRAM_SOCKET,
                                MetricsDomain.HTTP_CLIENT, MetricsDomain.VERTICLES)
                        .map(MetricsDomain::toCategory).collect(Collectors.toSet()));
        return Vertx.builder()
                .with(options.setMetricsOptions(metricsOptions))
                .withMetrics(new MicrometerMetricsFactory(registry))
                .withTransport(transport)
                .build();
    }

    /**
     * Adds the JVM's meters (memory, GC, threads, classes, CPU). Called after the start, off the event loops: they
     * take a JMX walk of 50-80 ms, which a cold start should not wait for.
     */
    public void bindJvmMetrics() {
        synchronized (this) {
            if (closed) {
                return; // stopped before its turn came
            }
        }
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        synchronized (this) {
            if (closed) {
                return; // stopped meanwhile: a GC listener added now would outlive the service
            }
            gcMetrics = new JvmGcMetrics();
            gcMetrics.bindTo(registry);
        }
    }

    /** Stops listening to GC notifications. */
    public synchronized void close() {
        closed = true;
        if (gcMetrics != null) {
            gcMetrics.close();
        }
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Measures every request of {@code router}; mount it first, so that refusals are measured too. */
    public void measure(Router router) {
        requests.mount(router);
    }

    /** Measures an answer given without a router (see {@code Framing.Unrouted}). */
    public void unrouted(HttpServerRequest request, boolean parsed, long startedNanos) {
        requests.unrouted(request, parsed, startedNanos);
    }

    /** Serves the registry as Prometheus text at {@code GET /metrics} of {@code router}. */
    public void mount(Router router) {
        router.route("/metrics").method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(PrometheusScrapingHandler.create(registry));
        Problems.methodNotAllowed(router, "/metrics", "GET, HEAD");
    }
}
