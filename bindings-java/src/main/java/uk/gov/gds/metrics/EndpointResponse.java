package uk.gov.gds.metrics;

import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** The endpoint's answer to one request: status, headers and body bytes (already compressed if gzip). */
public final class EndpointResponse {
    private final int status;
    private final List<Map.Entry<String, String>> headers;
    private final byte[] body;

    /** Built by the native endpoint: {@code headers} alternates names and values. */
    EndpointResponse(int status, String[] headers, byte[] body) {
        this.status = status;
        List<Map.Entry<String, String>> pairs = new ArrayList<>(headers.length / 2);
        for (int i = 0; i + 1 < headers.length; i += 2) {
            pairs.add(new SimpleImmutableEntry<>(headers[i], headers[i + 1]));
        }
        this.headers = Collections.unmodifiableList(pairs);
        this.body = body;
    }

    /** The HTTP status: 200, 401, 403 or 405. */
    public int status() {
        return status;
    }

    /** The response headers, names in lower case, in the order to send them. */
    public List<Map.Entry<String, String>> headers() {
        return headers;
    }

    /** The body to send as it is (empty for {@code HEAD}). */
    public byte[] body() {
        return body;
    }
}
