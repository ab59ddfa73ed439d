package dev.soundcheck.elasticsearch;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.mapper.MapperExtrasPlugin;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.reindex.ReindexPlugin;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * Runs a single Elasticsearch 7.17 node inside this JVM, built only from the
 * Maven Central jars, so Soundcheck does not need an Elasticsearch download.
 *
 * <p>Usage mirrors the real {@code elasticsearch} command: every setting is
 * passed as {@code -Ekey=value}. Once the node accepts HTTP requests, one line
 * {@value #STARTED} is printed on stdout; logs go to stderr. SIGTERM/SIGINT
 * close the node and the process exits 0. A failed start prints one line on
 * stderr and exits 1; bad arguments exit 64.
 */
public final class EmbeddedElasticsearch {

    static final String STARTED = "soundcheck: elasticsearch started";

    /**
     * Defaults for an isolated, single-node test server. Ports are single
     * values rather than Elasticsearch's 9200-9300 ranges, so a port clash
     * fails loudly instead of silently moving to another port.
     */
    private static final Map<String, String> DEFAULTS = Map.of(
        "cluster.name", "soundcheck",
        "node.name", "soundcheck",
        "network.host", "127.0.0.1",
        "http.port", "9200",
        "transport.port", "9300",
        "discovery.type", "single-node",
        // Test machines often have fuller disks than the 85%/90% watermarks
        // allow; without this, shards would silently stay unassigned.
        "cluster.routing.allocation.disk.threshold_enabled", "false");

    /**
     * What the official distribution ships as modules and we can get from
     * Maven Central. Netty is mandatory: core has no network layer of its own.
     */
    private static final List<Class<? extends Plugin>> PLUGINS =
        List.of(Netty4Plugin.class, ReindexPlugin.class, MapperExtrasPlugin.class);

    private static final long CLOSE_TIMEOUT_SECONDS = 10;

    /** Status the shutdown hook halts with: 0 for a signal, 1 after a failed start. */
    private static volatile int exitStatus = 0;
    private static volatile Node node;

    private EmbeddedElasticsearch() {
    }

    public static void main(String[] args) throws InterruptedException {
        // Must run before anything touches log4j or Netty, which read these
        // once in static initialisers. These are the values the official
        // launcher passes; -D on the command line still wins.
        // Log4j's own shutdown hook would race ours and drop the close-time logs.
        setDefaultProperty("log4j.shutdownHookEnabled", "false");
        setDefaultProperty("log4j2.disable.jmx", "true");
        // Netty would otherwise poke at JDK internals and log reflection failures on Java 17.
        setDefaultProperty("io.netty.noUnsafe", "true");
        setDefaultProperty("io.netty.noKeySetOptimization", "true");
        setDefaultProperty("io.netty.recycler.maxCapacityPerThread", "0");
        setDefaultProperty("io.netty.allocator.numDirectArenas", "0");
        // Elasticsearch 7 date formats assume the pre-CLDR locale data plus its
        // own ISO week provider (found via SPI): without this, "YYYY-ww" parses
        // to US-style weeks and some localised month names differ. The JDK
        // reads it on first locale use, which has not happened yet here.
        setDefaultProperty("java.locale.providers", "SPI,COMPAT");

        Settings settings;
        try {
            settings = parseArgs(args);
        } catch (IllegalArgumentException e) {
            System.err.println("soundcheck: " + e.getMessage());
            System.err.println("usage: EmbeddedElasticsearch [-Ekey=value]...");
            System.exit(64);
            return;
        }

        // Registered before the node exists so that a signal during start-up
        // still releases the data-directory lock and the ports.
        Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedElasticsearch::shutdown, "soundcheck-shutdown"));

        try {
            Environment environment = InternalSettingsPreparer.prepareEnvironment(
                settings, Collections.emptyMap(), null, () -> settings.get("node.name"));
            node = new PluginNode(environment, PLUGINS);
            node.start();
        } catch (Exception | LinkageError e) {
            System.err.println("soundcheck: elasticsearch failed to start: " + describe(e));
            exitStatus = 1;
            System.exit(1);
        }

        System.out.println(STARTED);
        System.out.flush();

        // Elasticsearch's own threads are daemons, so something has to keep
        // the JVM alive; the shutdown hook ends the process.
        new CountDownLatch(1).await();
    }

    /** Accepts {@code -Ekey=value} and {@code -E key=value}, like the real CLI. */
    static Settings parseArgs(String[] args) {
        Settings.Builder builder = Settings.builder();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String setting;
            if (arg.equals("-E") && i + 1 < args.length) {
                setting = args[++i];
            } else if (arg.startsWith("-E") && arg.length() > 2) {
                setting = arg.substring(2);
            } else {
                throw new IllegalArgumentException("unexpected argument [" + arg + "]");
            }
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("setting [" + setting + "] must be of the form key=value");
            }
            builder.put(setting.substring(0, eq), setting.substring(eq + 1));
        }
        DEFAULTS.forEach((key, value) -> {
            if (builder.get(key) == null) {
                builder.put(key, value);
            }
        });
        if (builder.get("path.home") == null) {
            // Elasticsearch refuses to start without a home; the working
            // directory is the least surprising place for it.
            builder.put("path.home", System.getProperty("user.dir"));
        }
        return builder.build();
    }

    private static void shutdown() {
        Node running = node;
        if (running != null) {
            try {
                running.close();
                if (running.awaitClose(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS) == false) {
                    System.err.println("soundcheck: elasticsearch did not stop within "
                        + CLOSE_TIMEOUT_SECONDS + "s, exiting anyway");
                }
            } catch (Exception e) {
                System.err.println("soundcheck: error while stopping elasticsearch: " + describe(e));
            }
        }
        // We switched off log4j's hook, so flush it ourselves.
        LogManager.shutdown();
        // A JVM ended by SIGTERM otherwise exits 143; a clean stop is not an error.
        Runtime.getRuntime().halt(exitStatus);
    }

    /**
     * One line from the whole cause chain: Elasticsearch wraps the useful
     * part, e.g. "Failed to bind to 127.0.0.1:9200" + "Address already in use".
     */
    static String describe(Throwable t) {
        Set<String> parts = new LinkedHashSet<>();
        for (Throwable c = t; c != null && parts.size() < 5; c = c.getCause()) {
            String message = c.getMessage();
            parts.add(message == null || message.isBlank()
                ? c.getClass().getSimpleName()
                : message.replaceAll("\\s+", " ").trim());
        }
        return String.join(": ", parts);
    }

    private static void setDefaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** Only exists to reach Node's protected constructor that accepts classpath plugins. */
    private static final class PluginNode extends Node {
        PluginNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }
}
