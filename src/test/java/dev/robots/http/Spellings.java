package dev.robots.http;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/** Other ways to write a request target that a lenient server could take for {@code path}. */
final class Spellings {
    private Spellings() {
    }

    /** {@code path} itself first, then every other spelling of it (all but the first are non-canonical). */
    static List<String> of(String path) {
        var spellings = new LinkedHashSet<String>();
        spellings.add(path);
        spellings.add("/" + path);
        spellings.add(path.replace("/", "//"));
        for (int slash = path.indexOf('/', 1); slash > 0; slash = path.indexOf('/', slash + 1)) {
            spellings.add(path.substring(0, slash) + "/" + path.substring(slash));
            spellings.add(path.substring(0, slash) + "/." + path.substring(slash));
            spellings.add(path.substring(0, slash) + "/x/.." + path.substring(slash));
            spellings.add(path.substring(0, slash) + "/%2e" + path.substring(slash));
            spellings.add(path.substring(0, slash) + "/%2E%2E/" + path.substring(1));
        }
        spellings.add("/." + path);
        spellings.add("/x/.." + path);
        spellings.add("/v1/../" + path.substring(1));
        for (int i = 1; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c != '/') {
                String hex = "%%%02X".formatted((int) c);
                spellings.add(path.substring(0, i) + hex + path.substring(i + 1));
                spellings.add(path.substring(0, i) + hex.toLowerCase(Locale.ROOT) + path.substring(i + 1));
            }
        }
        spellings.add(path.replace("/", "%2F"));
        spellings.add(path.replace("/v1/", "/v1\\"));
        spellings.add("http://x" + path);
        spellings.add("http://x/" + path);
        spellings.add("http://x/." + path);
        spellings.add("HTTP://x" + path.replace("robots", "%72obots"));
        spellings.add(path + ";x=1");
        spellings.add(path + "/");
        spellings.add(path + "/.");
        spellings.add(path.toUpperCase(Locale.ROOT));
        return new ArrayList<>(spellings);
    }
}
