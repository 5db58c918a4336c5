package dev.robots.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.robots.ApiContract;
import dev.robots.RunningService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * /docs in a real browser: headless Chromium renders the page from the service alone (every other host is
 * unreachable to it) and shows every operation of the document. Skipped without Chromium, except under
 * {@code CI=true}, where it fails ({@code .ci/run} installs Debian's chromium).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DocsPageTest {
    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2");

    @Test
    void the_page_renders_every_operation_of_the_document_without_any_other_site(@TempDir Path profile)
            throws Exception {
        String dom = renderedDom(service.uri("/docs").toString(), profile);

        assertThat(dom).contains("Robots API");
        for (var operation : ApiContract.get().operations()) {
            var spec = ApiContract.get().document().at(operation.pointer());
            String id = "operations-%s-%s".formatted(spec.get("tags").get(0).asText(), spec.get("operationId").asText());
            assertThat(dom).as(operation.key()).contains("id=\"" + id + "\"");
        }
        assertThat(dom).doesNotContain("Failed to load API definition");
    }

    /** The page's DOM once its scripts ran, as Chromium dumps it. */
    private static String renderedDom(String url, Path profile) throws IOException, InterruptedException {
        String chromium = chromium();
        var command = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile,
                // Any host but the service's fails to resolve: a script or style from a CDN would not load.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                // Time for the page to fetch /openapi.json and render it, in the browser's virtual clock.
                "--virtual-time-budget=20000",
                "--dump-dom", url));
        Path errors = profile.resolve("stderr.txt");
        var process = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        byte[] dom = process.getInputStream().readAllBytes();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            fail("Chromium did not finish: " + Files.readString(errors));
        }
        assertThat(process.exitValue()).as(Files.readString(errors)).isZero();
        return new String(dom, StandardCharsets.UTF_8);
    }

    private static String chromium() {
        for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        Assumptions.assumeTrue("true".equals(System.getenv("CI")),
                "no Chromium: apt-get install -y chromium (.ci/run does)");
        return fail("Chromium is required under CI=true: apt-get install -y chromium");
    }
}
