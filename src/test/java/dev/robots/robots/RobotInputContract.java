package dev.robots.robots;

import static dev.robots.robots.RobotsApiContract.assertProblem;
import static dev.robots.robots.RobotsApiContract.detail;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a write body may be: names that look like nothing or like another name are refused, names are stored in one
 * Unicode spelling, media types and codings are exact, and error details never quote the parser's internals. Each
 * refusal is checked against the database too: nothing was stored. Run on each database by a subclass.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RobotInputContract {
    @RegisterExtension
    final RunningService service;

    RobotInputContract(String kind) {
        service = RunningService.onFresh(kind);
    }

    /** The robots in the database, read over JDBC: a refusal must have stored nothing, whatever the answer said. */
    private long robotsStored() throws SQLException {
        try (Connection c = service.database().connect()) {
            var rows = c.createStatement().executeQuery("SELECT count(*) FROM robots");
            rows.next();
            return rows.getLong(1);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"\u200B", "\u00A0", "\uFEFF", "\u200D", "\u200B\u200C\u200D\u2060", " \u00A0\u3000 ",
        "\u3164", "\u2800", "\u034F", "\uFE0F", "\u180E", "\u00AD"})
    void a_name_of_only_invisible_characters_is_blank(String invisible) throws SQLException {
        long before = robotsStored();
        var response = service.sendJson("POST", "/v1/robots", new JsonObject().put("name", invisible).encode());
        assertProblem(response, 400);
        assertThat(detail(response)).contains("blank");
        assertThat(robotsStored()).isEqualTo(before);
    }

    @ParameterizedTest(name = "[{index}] U+{0}")
    @ValueSource(strings = {"202E", "202D", "2066", "2067", "2068", "2069", "200E", "200F", "061C", "200B", "200D",
        "FEFF", "00AD", "2028", "2029", "E0001"})
    void a_name_with_a_format_or_separator_character_inside_is_refused(String hex) throws SQLException {
        long before = robotsStored();
        String name = "R2" + Character.toString(Integer.parseInt(hex, 16)) + "D2";
        var created = service.sendJson("POST", "/v1/robots", new JsonObject().put("name", name).encode());
        assertProblem(created, 400);
        assertThat(detail(created)).contains("U+" + hex);
        long id = service.create("Plain");
        var renamed = service.sendJson("PATCH", "/v1/robots/" + id, new JsonObject().put("name", name).encode());
        assertProblem(renamed, 400);
        assertThat(robotsStored()).isEqualTo(before + 1);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"\u0301", "\u0300\u0301", "\u20DD", "\uE000", "\uE000\uF8FF", "\uDB80\uDC00",
        "\uFFFE", "\uFDD0", "\uDBFF\uDFFF", "\u200B", "\u2060", "\uFEFF", "\u202E", "\u202E\u0301",
        "\u3164\u0301"})
    void a_name_that_shows_nothing_is_blank(String invisible) throws SQLException {
        long before = robotsStored();
        var response = service.sendJson("POST", "/v1/robots", new JsonObject().put("name", invisible).encode());
        assertProblem(response, 400);
        assertThat(detail(response)).contains("blank", "no letter, digit, punctuation mark or symbol");
        assertThat(robotsStored()).isEqualTo(before);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"\u0301R2", " \u0301R2", "R2\uE000", "R2\uFFFE", "R2\uFDD0D2", "R2\uDB80\uDC00",
        "a\u200Db", "R2\u200CD2", "\uD83D\uDC69\u200D", "\u200D\uD83D\uDD27", "\uD83D\uDC69\u200D\u200D\uD83D\uDD27",
        "x\uDB40\uDC67\uDB40\uDC7F", "\uD83C\uDFF4\uDB40\uDC7F", "\u0645\u200F\u0645"})
    void a_name_with_a_character_that_shows_nothing_or_steers_the_display_is_refused_and_says_which(String name)
            throws SQLException {
        long before = robotsStored();
        var created = service.sendJson("POST", "/v1/robots", new JsonObject().put("name", name).encode());
        assertProblem(created, 400);
        assertThat(detail(created)).containsAnyOf("combining mark", "private-use", "format or separator",
                "invisible character").containsPattern("U\\+[0-9A-F]{4,5}");
        assertThat(robotsStored()).isEqualTo(before);
    }

    /**
     * Names that show exactly as a visible name does (most as "R2D2"), by an invisible character after or inside it:
     * refused on create and on rename, with a detail that names the character.
     */
    @ParameterizedTest(name = "[{index}] U+{1}")
    @CsvSource({
        "'R2D2\uFE0F', FE0F",                     // emoji style after a letter-digit: nothing to style
        "'R2D2\uDB40\uDD00', E0100",             // VS17 after a digit, not an ideograph
        "'R2D2\u180F', 180F",                     // a Mongolian variation selector after a digit
        "'R2D2\u17B4', 17B4",                     // a Khmer inherent vowel: default-ignorable
        "'R2D2\u3164', 3164",                     // Hangul filler
        "'R2D2\u2800', 2800",                     // Braille blank, not between Braille patterns
        "'R2D2\uFFA0', FFA0",                     // halfwidth Hangul filler
        "'R2\u034FD2', 034F",                     // combining grapheme joiner before a letter
        "'R2\u115FD2', 115F",                     // Hangul choseong filler
        "'\uD83C\uDFF4\uDB40\uDC41\uDB40\uDC7F', E0041", // black flag, tag 'A', cancel: a black flag
        "'\uD83C\uDFF4\uDB40\uDC75\uDB40\uDC73\uDB40\uDC63\uDB40\uDC61\uDB40\uDC7F', E0075", // not RGI
        "'R2D2\uD834\uDD59', 1D159",             // musical null notehead
        "'\uD83E\uDD16\uFE0F', FE0F",           // the robot face is emoji-style already
        "'R2D2\uFE00', FE00",                     // VS1 after a digit
        "'\u05E9\u200D\u05DC\u05D5\u05DD', 200D", // Hebrew does not shape with joiners
        "'R2D2\u200D', 200D",                     // ZWJ ending a Latin word
        "'\u0645\u200C', 200C",                  // ZWNJ with no letter after it
        "'\u1781\u17D2\u1789\u17BB\u17C6\u200B', 200B", // zero-width space with no word after it
        "'R2 \u0645\u200F', 200F",               // a direction mark last
        "'R2D2\uD80D\uDC3D', 1343D",             // an Egyptian format control after a Latin letter
        "'R2\u2800D2', 2800"})
    void a_name_that_looks_like_another_by_an_invisible_character_is_refused(String name, String hex)
            throws SQLException {
        long before = robotsStored();
        var created = service.sendJson("POST", "/v1/robots", new JsonObject().put("name", name).encode());
        assertProblem(created, 400);
        assertThat(detail(created)).contains("U+" + hex, "invisible character");
        long id = service.create("Plain");
        var renamed = service.sendJson("PATCH", "/v1/robots/" + id, new JsonObject().put("name", name).encode());
        assertProblem(renamed, 400);
        assertThat(detail(renamed)).contains("U+" + hex);
        assertThat(robotsStored()).isEqualTo(before + 1);
    }

    /** Invisible characters where writing uses them: each changes what the name shows. */
    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
        "\u0D05\u0D35\u0D28\u0D4D\u200D",                           // Malayalam, a chillu by ZWJ at a word end
        "\u0D05\u0D35\u0D28\u0D4D\u200D \u0D35\u0D28\u0D4D\u0D28\u0D41", // the same, then another word
        "\u0647\u200D",                                                // Arabic heh in its initial form
        "R2-D2 \u0645\u0631\u062D\u0628\u0627\u200F (1)",          // RLM in a Latin and Arabic name
        "\u1781\u17D2\u1789\u17BB\u17C6\u200B\u1791\u17C5",      // Khmer, ZWSP between words
        "\uD80C\uDC00\uD80D\uDC30\uD80C\uDC01",                    // Egyptian: vertical joiner
        "\uD80C\uDC00\uD80D\uDC37\uD80C\uDC01\uD80D\uDC31\uD80C\uDC02\uD80D\uDC38", // a segment
        "\uD80D\uDC3C\uD80C\uDC00\uD80D\uDC3D",                    // Egyptian: an enclosure, whole
        "1\uFE0F\u20E3",                                               // keycap
        "\u00A9\uFE0F", "\u231A\uFE0E",                              // emoji style, text style
        "\u845B\uDB40\uDD00",                                         // an ideograph's IVD variant (VS17)
        "\u2269\uFE00",                                                // a math symbol's standardized variant
        "\u1820\u180B",                                                // Mongolian with a free variation selector
        "\uD83C\uDFF3\uFE0F\u200D\uD83C\uDF08",                    // rainbow flag: VS16, ZWJ
        "\u2817\u2800\u2819"})                                        // Braille, a blank between two patterns
    void invisible_characters_where_writing_uses_them_are_accepted(String name) {
        var created = service.sendJson("POST", "/v1/robots", new JsonObject().put("name", name).encode());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(new JsonObject(created.body()).getString("name")).isEqualTo(name);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
        "\u30ED\u30DC\u30C3\u30C8",                                      // Japanese: robot
        "\u0645\u064F\u062D\u064E\u0645\u0651\u064E\u062F",          // Arabic with its vowel marks
        "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645",          // Persian, a ZWNJ inside the word
        "\u0DC1\u0DCA\u200D\u0DBB\u0DD3",                               // Sinhala, a ZWJ in a conjunct
        "\uD83D\uDC69\u200D\uD83D\uDD27",                               // woman mechanic: ZWJ sequence
        "\uD83D\uDC68\uD83C\uDFFD\u200D\uD83D\uDE80",                 // with a skin tone
        "\u2764\uFE0F\u200D\uD83D\uDD25",                               // heart on fire: VS16, then ZWJ
        "\uD83C\uDFF4\uDB40\uDC67\uDB40\uDC62\uDB40\uDC73\uDB40\uDC63\uDB40\uDC74\uDB40\uDC7F", // Scotland
        "R2-D2 \uD83E\uDD16", "e\u0301", "\u00C5ngstr\u00F6m", "\u0928\u092E\u0938\u094D\u0924\u0947"})
    void ordinary_names_in_any_script_and_emoji_sequences_are_accepted(String name) {
        var created = service.sendJson("POST", "/v1/robots", new JsonObject().put("name", name).encode());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(new JsonObject(created.body()).getString("name"))
                .isEqualTo(java.text.Normalizer.normalize(name, java.text.Normalizer.Form.NFC));
    }

    @Test
    void names_are_stored_in_nfc_and_counted_in_code_points_after_trimming() {
        var decomposed = service.sendJson("POST", "/v1/robots", "{\"name\": \"\\u00A0Robe\\u0301rt\\u00A0\"}");
        assertThat(decomposed.statusCode()).isEqualTo(201);
        assertThat(new JsonObject(decomposed.body()).getString("name")).isEqualTo("Rob\u00E9rt");

        String hundred = "\uD83E\uDD16".repeat(100); // 100 robot faces: 200 UTF-16 units, 100 characters
        assertThat(service.sendJson("POST", "/v1/robots", new JsonObject().put("name", hundred).encode())
                .statusCode()).isEqualTo(201);
        // 101 decomposed characters that NFC makes 100
        String composes = "e\u0301" + "x".repeat(99);
        assertThat(service.sendJson("POST", "/v1/robots", new JsonObject().put("name", composes).encode())
                .statusCode()).isEqualTo(201);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"application/merge-patch+json", "application/json-patch+json", "application/vnd.x+json",
        "application/jsonx", "application/json; charset=latin1", "application/json; profile=x"})
    void json_lookalike_media_types_are_a_415(String type) throws SQLException {
        long before = robotsStored();
        assertProblem(service.send("POST", "/v1/robots", type, "{\"name\": \"R2\"}"), 415);
        long id = service.create("Media");
        assertProblem(service.send("PATCH", "/v1/robots/" + id, type, "{\"name\": \"R3\"}"), 415);
        assertThat(robotsStored()).isEqualTo(before + 1);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"application/json;", "application/json ; charset=\"UTF-8\"", "Application/JSON;;"})
    void json_spelt_with_empty_or_quoted_parameters_is_json(String type) throws SQLException {
        long before = robotsStored();
        var created = service.send("POST", "/v1/robots", type, "{\"name\": \"R2\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(robotsStored()).isEqualTo(before + 1);
    }

    @Test
    void two_content_type_lines_are_a_415() throws SQLException {
        long before = robotsStored();
        // The first line alone would be JSON; a server (or proxy) that read the last would see text.
        assertProblem(service.send(service.request("POST", "/v1/robots", "application/json", "{\"name\": \"R2\"}")
                .header("Authorization", "Bearer " + RunningService.TOKEN)
                .header("Content-Type", "text/plain")), 415);
        assertThat(robotsStored()).isEqualTo(before);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"gzip", "deflate", "br", "identity, gzip", "x-unknown"})
    void a_content_encoding_other_than_identity_is_a_415(String coding) throws SQLException {
        long before = robotsStored();
        var response = service.send(service.request("POST", "/v1/robots", "application/json", "{\"name\": \"R2\"}")
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("Content-Encoding", coding));
        assertProblem(response, 415);
        assertThat(response.headers().firstValue("Accept-Encoding")).hasValue("identity");
        assertThat(robotsStored()).isEqualTo(before);
        assertThat(service.send(service.request("POST", "/v1/robots", "application/json", "{\"name\": \"R2\"}")
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("Content-Encoding", "identity"))
                .statusCode()).isEqualTo(201);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"{'name': 'R2'}", "{name: \"R2\"}", "{\"name\": \"R2\",}", "{\"name\": NaN}",
        "{\"name\": \"R2\" /* c */}", "{\"name\": \"\t\"}", "{\"name\": \"R2\\x41\"}", "{\"a\":01}", "\u0000"})
    void json_errors_say_where_and_never_name_the_parser(String body) {
        var response = service.sendJson("POST", "/v1/robots", body);
        assertProblem(response, 400);
        assertThat(detail(response)).doesNotContainIgnoringCase("JsonReadFeature")
                .doesNotContainIgnoringCase("Feature").doesNotContain("jackson").doesNotContain("com.fasterxml")
                .doesNotContain("Token").doesNotContain("ALLOW_");
    }

    @Test
    void the_form_route_takes_its_exact_media_type_and_field_only() {
        long id = service.create("Form");
        for (String type : new String[] {"application/x-www-form-urlencodedX", "application/x-www-form-urlencoded+json",
            "multipart/form-data; boundary=x", "text/plain"}) {
            assertProblem(service.send("POST", "/v1/robots/repair", type, "robot_id=" + id), 415);
        }
        assertProblem(service.send("POST", "/v1/robots/repair", "application/x-www-form-urlencoded",
                "robot_id=" + id + "&colour=blue"), 400);
        assertProblem(service.send("POST", "/v1/robots/repair", "application/x-www-form-urlencoded",
                "robotid=" + id), 400);
        assertThat(service.send("POST", "/v1/robots/repair", "application/x-www-form-urlencoded; charset=UTF-8",
                "robot_id=" + id).statusCode()).isEqualTo(202);
        assertProblem(service.send(service.request("POST", "/v1/robots/repair", "application/x-www-form-urlencoded",
                "robot_id=" + id).header("Authorization", "Bearer " + RunningService.TOKEN)
                .header("Content-Encoding", "gzip")), 415);
    }
}
