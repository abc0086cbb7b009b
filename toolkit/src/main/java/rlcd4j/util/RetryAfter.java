package rlcd4j.util;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** How long an HTTP server asks a client to wait before it retries: the judge and the remote backend both obey it. */
public final class RetryAfter {
    private RetryAfter() {}

    /**
     * The server's own wait hint: {@code retry-after-ms}, or {@code Retry-After} in seconds or as an HTTP date (at
     * most 10 min); null when there is none or it cannot be read.
     */
    public static Duration of(HttpResponse<?> r) {
        try {
            var ms = r.headers().firstValue("retry-after-ms");
            if (ms.isPresent())
                return cap(Duration.ofMillis((long) Double.parseDouble(ms.get().trim())));
            var ra = r.headers().firstValue("retry-after");
            if (ra.isEmpty()) return null;
            String v = ra.get().trim();
            if (v.matches("\\d+(\\.\\d+)?")) return cap(Duration.ofMillis((long) (Double.parseDouble(v) * 1000)));
            Duration d =
                    Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
            return cap(d.isNegative() ? Duration.ZERO : d);
        } catch (RuntimeException e) {
            return null; // an unreadable hint: fall back to our own backoff
        }
    }

    private static Duration cap(Duration d) {
        return d.compareTo(Duration.ofMinutes(10)) > 0 ? Duration.ofMinutes(10) : d;
    }
}
