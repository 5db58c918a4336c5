package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every answer carries {@code Date} (RFC 9110 section 6.6.1: an origin server with a clock must send it), in the
 * one form a sender may use, IMF-fixdate, whose day has two digits ({@code Tue, 01 Dec 2026}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DateHeaderTest {
    private static final Pattern IMF_FIXDATE =
            Pattern.compile("(?m)^(?i:date): ((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} [A-Z][a-z]{2} \\d{4} "
                    + "\\d{2}:\\d{2}:\\d{2} GMT)\r?$");

    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2");
    private int port;

    @BeforeAll
    void createTarget() {
        port = service.uri("/").getPort();
        service.create("dated");
    }

    @Test
    void the_three_forms_of_an_http_date_are_read_and_only_a_two_digit_year_moves_back_a_century() {
        var at = Instant.parse("2026-12-02T08:49:37Z");
        assertThat(HttpDate.parse("Wed, 02 Dec 2026 08:49:37 GMT")).isEqualTo(at);
        assertThat(HttpDate.parse("Wednesday, 02-Dec-26 08:49:37 GMT")).isEqualTo(at);
        assertThat(HttpDate.parse("Wed Dec  2 08:49:37 2026")).isEqualTo(at);
        assertThat(HttpDate.parse("Sunday, 06-Nov-94 08:49:37 GMT")).isEqualTo(Instant.parse("1994-11-06T08:49:37Z"));
        // Far ahead in four digits is far ahead: it was taken for the century before.
        assertThat(HttpDate.parse("Thu, 02 Dec 2100 00:00:00 GMT")).isEqualTo(Instant.parse("2100-12-02T00:00:00Z"));
        assertThat(HttpDate.parse("Thu Dec  2 00:00:00 2100")).isEqualTo(Instant.parse("2100-12-02T00:00:00Z"));
        assertThat(HttpDate.parse("Tue, 02 Dec 2026 08:49:37 GMT")).as("the wrong day's name").isNull();
        assertThat(HttpDate.parse("yesterday")).isNull();
    }

    @Test
    void an_http_date_has_a_two_digit_day() {
        assertThat(HttpDate.format(Instant.parse("2026-12-01T06:03:09Z"))).isEqualTo("Tue, 01 Dec 2026 06:03:09 GMT");
        assertThat(HttpDate.format(Instant.parse("2027-01-31T23:59:59.999Z"))).isEqualTo("Sun, 31 Jan 2027 23:59:59 GMT");
    }

    /**
     * An answer given seconds after its request came in (a body that never arrives, refused at the deadline) is dated
     * when it is written: it carried the time its request arrived.
     */
    @Test
    void a_late_answer_is_dated_when_it_is_written() throws Exception {
        // 100 ms into a second: a date taken as the head arrives would be of this second, before the head was sent.
        Thread.sleep(1_100 - System.currentTimeMillis() % 1_000);
        Instant headSent = Instant.now();
        var answer = Raw.exchange(port, "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + Raw.AUTH
                + "Content-Type: application/json\r\nContent-Length: 20\r\n\r\n{");
        var date = IMF_FIXDATE.matcher(answer.text());
        assertThat(date.find()).as(answer.text()).isTrue();
        assertThat(answer.status()).isBetween(400, 599);
        Instant sent = ZonedDateTime.parse(date.group(1), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        assertThat(sent).as(answer.text()).isAfter(headSent);
    }

    @Test
    void every_kind_of_answer_carries_a_date_of_now() throws Exception {
        for (String request : new String[] {
                "GET /v1/robots/1 HTTP/1.1\r\nHost: x\r\n\r\n", // a route's answer
                "GET /v1/robots/999 HTTP/1.1\r\nHost: x\r\n\r\n", // a problem
                "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", // a probe, a HEAD
                "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", // not the router's
                "GET /v1/robots HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n", // the decoder's 431
        }) {
            Instant before = Instant.now().minusSeconds(1);
            var answer = Raw.exchange(port, request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
            var date = IMF_FIXDATE.matcher(answer.text());
            assertThat(date.find()).as(answer.text()).isTrue();
            Instant sent = ZonedDateTime.parse(date.group(1),
                    DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            assertThat(sent).as(request.lines().findFirst().orElseThrow())
                    .isBetween(before, Instant.now().plusSeconds(1));
        }
    }
}
