package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which request paths are canonical: only those reach a route. */
class TargetsTest {
    @Test
    void canonical_paths_pass() {
        for (String path : new String[] {"/", "/v1/robots", "/v1/robots/", "/v1/robots/42", "/v1/robots/1/repair",
            "/v1/robots/%2F", "/v1/robots/%C3%A9", "/a;b=c", "/a:b@c!$&'()*+,="}) {
            assertThat(Targets.problemWith(path)).as(path).isNull();
        }
    }

    @Test
    void every_other_spelling_is_refused() {
        for (String path : Spellings.of("/v1/robots/1/repair")) {
            if (!path.equals("/v1/robots/1/repair") && !path.startsWith("http") && !path.startsWith("HTTP")
                    && !path.endsWith(";x=1") && !path.endsWith("/repair/") && !path.equals("/V1/ROBOTS/1/REPAIR")) {
                assertThat(Targets.problemWith(path)).as(path).isNotNull();
            }
        }
        for (String path : new String[] {"", "*", "v1/robots", "//", "/v1//robots", "/v1/./robots", "/v1/../v1/robots",
            "/v1/robots/..", "/v1/robots/.", "/v1/%72obots", "/v1/%2e", "/v1/%2fx", "/v1/%ZZ", "/v1/%4", "/v1/%",
            "/v1/robots/1 2", "/v1/robots/\u00e9", "/v1\\robots", "/v1/robots/\u0000", "/v1/robots/<x>"}) {
            assertThat(Targets.problemWith(path)).as(path).isNotNull();
        }
    }

    @Test
    void a_query_escape_is_two_hexadecimal_digits_of_either_case() {
        for (String query : new String[] {"", "q=%41", "q=%e9%C3", "a=1&b=%2F%2f", "%20"}) {
            assertThat(Targets.malformedEscape(query)).as(query).isEqualTo(-1);
        }
        assertThat(Targets.malformedEscape("q=%ZZ")).isEqualTo(2);
        assertThat(Targets.malformedEscape("q=%4")).isEqualTo(2);
        assertThat(Targets.malformedEscape("%")).isEqualTo(0);
        assertThat(Targets.malformedEscape("a=%41&b=%G0")).isEqualTo(8);
    }
}
