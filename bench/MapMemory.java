// Memory and time per robot of the flusher's sums: boxed HashMap against LongLongMap.
// java -XX:+UseSerialGC -Xmx512m -cp target/classes bench/MapMemory.java
import dev.robots.counting.LongLongMap;
import java.util.HashMap;

public class MapMemory {
    static long used() {
        for (int i = 0; i < 5; i++) System.gc();
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
    public static void main(String[] args) {
        int n = 200_000;
        long base = used();
        var boxed = new HashMap<Long, Long>();
        for (long id = 1; id <= n; id++) boxed.merge(id * 7919 % 1_000_003 + 1_000, 1L, Long::sum);
        long boxedBytes = used() - base;
        long t0 = System.nanoTime();
        for (int round = 0; round < 20; round++) for (long id = 1; id <= n; id++) boxed.merge(id * 7919 % 1_000_003 + 1_000, 1L, Long::sum);
        long boxedNs = (System.nanoTime() - t0) / (20L * n);
        boxed = null;
        base = used();
        var prim = new LongLongMap();
        for (long id = 1; id <= n; id++) prim.add(id * 7919 % 1_000_003 + 1_000, 1);
        long primBytes = used() - base;
        t0 = System.nanoTime();
        for (int round = 0; round < 20; round++) for (long id = 1; id <= n; id++) prim.add(id * 7919 % 1_000_003 + 1_000, 1);
        long primNs = (System.nanoTime() - t0) / (20L * n);
        System.out.printf("200,000 robots: HashMap<Long,Long> %d bytes/robot, %d ns/add; LongLongMap %d bytes/robot, %d ns/add (%d)%n",
                boxedBytes / n, boxedNs, primBytes / n, primNs, prim.size());
    }
}
