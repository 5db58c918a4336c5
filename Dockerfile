# Multi-stage build for people with Docker: `docker build --platform=linux/amd64 -t IMAGE .` (Cloud Run, App Engine
# and most GKE nodes are amd64, and the AOT cache holds code for the platform it was recorded on). Jib (`./mvnw -B package jib:build -Dimage=...`) builds the same layout
# without Docker: /app/classpath/robots-api.jar, /app/libs/*.jar and /app/jib-classpath-file, run as user 10001 on
# eclipse-temurin:25-jre. This image adds a JDK 25 AOT cache, recorded by a training run on the same JRE (Jib cannot
# run one), for a faster cold start.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
RUN ./mvnw -B -q dependency:go-offline
COPY src src
RUN ./mvnw -B -q package -DskipTests \
 && mkdir -p /app/classpath \
 && cp target/robots-api.jar /app/classpath/ && cp -r target/lib /app/libs \
 && (cd /app && printf '%s' "/app/classpath/robots-api.jar$(printf ':/app/libs/%s' $(ls libs))" > jib-classpath-file) \
 && echo dev.robots.Main > /app/jib-main-class-file

# The cache is recorded against PostgreSQL, which production runs on (Cloud SQL): one recorded on the embedded H2
# holds H2's classes instead of the PostgreSQL client's, and took 446 ms to the first 200 on PostgreSQL against 320 ms
# (bench/README.md, "Start"). A scratch server in this stage only, reached over its Unix socket as Cloud Run reaches
# Cloud SQL.
# Trained under the memory of the smallest instance it runs on (Cloud Run's 512 MiB): a cache records whether
# compressed oops were on, and the JVM sizes its heap from the machine's memory. On a build host with 64 GB or more,
# MaxRAMPercentage=50 alone gives a heap too large for compressed oops, and a 512 MiB instance then ignores the cache
# without a word ("created with UseCompressedOops = 0 ... Unable to use AOT cache").
FROM eclipse-temurin:25-jre AS train
RUN apt-get update && apt-get install -y --no-install-recommends postgresql && rm -rf /var/lib/apt/lists/* \
 && sed -i 's/peer$/trust/' /etc/postgresql/*/main/pg_hba.conf
COPY --from=build /app /app
COPY scripts/aot-train.sh /aot-train.sh
RUN pg_ctlcluster "$(ls /etc/postgresql)" main start \
 && DATABASE_URL="postgresql://postgres@localhost/postgres?host=/var/run/postgresql" \
    JAVA_OPTS="-XX:MaxRAM=512m -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xms16m -XX:MaxRAMPercentage=50 -Xss512k --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow" \
    APP_ARGS="-cp @/app/jib-classpath-file dev.robots.Main" /aot-train.sh /app /app/robots-api.aot \
 && pg_ctlcluster "$(ls /etc/postgresql)" main stop

FROM eclipse-temurin:25-jre
# /app as the training run saw it: the cache checks the class path's jars by size and modification time.
COPY --from=train /app /app
# The build fails if the cache would not be used at run time: AOTMode=on makes a cache that cannot be mapped (another
# JVM, other flags, compressed oops off, changed jars) an error instead of a silent fallback. Under the same 512 MiB.
RUN java -XX:MaxRAM=512m -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xms16m -XX:MaxRAMPercentage=50 -Xss512k -XX:TrimNativeHeapInterval=2000 \
      -XX:+ExitOnOutOfMemoryError --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
      -XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining -XX:AOTMode=on -XX:AOTCache=/app/robots-api.aot \
      -cp @/app/jib-classpath-file -version
USER 10001:10001
# Memory (bench/README.md, "Memory"): a 16 MiB initial heap that grows only as needed (the live set is ~10 MiB), two
# malloc arenas instead of one per thread, and freed native memory (the JIT's) given back to the system. Compact
# object headers (8 bytes, not 12; a product option since JDK 25): 11 % fewer bytes allocated per request, 5-10 % less
# CPU per request (bench/README.md, "Session 11").
# Start (bench/README.md, "Start"): Netty may use sun.misc.Unsafe, as it does on every JDK before 25; otherwise it
# builds FFM downcall handles to malloc and free at start, ~30 ms of a 0.3 s start. `allow` also keeps the JDK quiet.
# The AOT cache holds no JIT training data (scripts/aot-train.sh); turning its replay off as well spares every class
# initialisation a hand-off to the replay thread: ~25 ms.
# The integration tests run the jar with these flags, read from here (JarProcess); Jib's jvmFlags must match them
# but for the AOT ones (DeployManifestsTest).
ENV DATA_DIR=/tmp/data MALLOC_ARENA_MAX=2
# 8080: the API (PORT); 9090: /metrics (METRICS_PORT), for the collector beside it only
EXPOSE 8080 9090
ENTRYPOINT ["java", "-XX:+UseSerialGC", "-XX:+UseCompactObjectHeaders", "-Xms16m", "-XX:MaxRAMPercentage=50", "-Xss512k", \
            "-XX:TrimNativeHeapInterval=2000", "-XX:+ExitOnOutOfMemoryError", \
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", \
            "-XX:+UnlockDiagnosticVMOptions", "-XX:-AOTReplayTraining", "-XX:AOTCache=/app/robots-api.aot", "-cp", "@/app/jib-classpath-file", "dev.robots.Main"]
