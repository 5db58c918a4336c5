package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Media types read as RFC 9110 section 8.3.1 spells them, not matched as strings. */
class MediaTypeTest {
    @Test
    void json_is_accepted_in_every_spelling_of_itself() {
        for (String type : List.of("application/json", "application/json;", "application/json ;",
                "Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8",
                "application/json ; charset=\"utf-8\"", "application/json;;charset=utf-8",
                "application/json;\tCHARSET=utf-8;", "application/json; charset=\"u\\tf-8\"")) {
            assertThat(MediaType.isUtf8(List.of(type), "application/json")).as(type).isTrue();
        }
    }

    @Test
    void other_types_parameters_and_malformed_spellings_are_refused() {
        for (String type : List.of("", "application", "application/", "/json", "application / json",
                "application/jsonx", "application/merge-patch+json", "text/json", "application/json, text/plain",
                "application/json; charset=latin1", "application/json; profile=x", "application/json; charset",
                "application/json; charset=", "application/json; charset =utf-8", "application/json; charset= utf-8",
                "application/json; charset=utf-8; charset=utf-8", "application/json; charset=\"utf-8",
                "application/json charset=utf-8", "application/json; charset=utf-8 x", "application/json\u00a0",
                "application/jsön")) {
            assertThat(MediaType.isUtf8(List.of(type), "application/json")).as(type).isFalse();
        }
    }

    @Test
    void two_content_type_lines_or_none_are_refused() {
        assertThat(MediaType.isUtf8(List.of("application/json", "application/json"), "application/json")).isFalse();
        assertThat(MediaType.isUtf8(List.of("text/plain", "application/json"), "application/json")).isFalse();
        assertThat(MediaType.isUtf8(List.of(), "application/json")).isFalse();
    }

    @Test
    void a_parsed_type_is_lower_case_and_its_values_unquoted() {
        assertThat(MediaType.parse("Text/HTML; Charset=\"a\\\"b\"; level=1;"))
                .contains(new MediaType("text", "html", Map.of("charset", "a\"b", "level", "1")));
    }
}
