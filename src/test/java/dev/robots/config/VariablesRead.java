package dev.robots.config;

import java.util.HashMap;
import java.util.Set;
import java.util.TreeSet;

/** The environment variables {@link Config#from} looks at, whatever they hold: what the README and the deploys name. */
public final class VariablesRead {
    private VariablesRead() {
    }

    public static Set<String> all() {
        var read = new TreeSet<String>();
        var env = new HashMap<String, String>() {
            @Override
            public String get(Object key) {
                read.add((String) key);
                return super.get(key);
            }

            @Override
            public String getOrDefault(Object key, String fallback) {
                read.add((String) key);
                return super.getOrDefault(key, fallback);
            }
        };
        Config.from(env);
        return read;
    }
}
