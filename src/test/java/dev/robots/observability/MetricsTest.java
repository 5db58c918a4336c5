package dev.robots.observability;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The JVM's meters are bound late (a second after the start); a service stopped before that must not get them. */
class MetricsTest {

    @Test
    void jvm_meters_are_bound_on_request() {
        var metrics = new Metrics();
        metrics.bindJvmMetrics();
        assertThat(metrics.registry().find("jvm.memory.used").gauges()).isNotEmpty();
        assertThat(metrics.registry().find("jvm.gc.live.data.size").gauge()).isNotNull();
        metrics.close();
    }

    @Test
    void a_closed_registry_gets_no_jvm_meters_and_no_gc_listener() {
        var metrics = new Metrics();
        metrics.close();
        metrics.bindJvmMetrics();
        assertThat(metrics.registry().find("jvm.memory.used").gauges()).isEmpty();
        assertThat(metrics.registry().find("jvm.gc.live.data.size").gauge()).isNull();
    }
}
