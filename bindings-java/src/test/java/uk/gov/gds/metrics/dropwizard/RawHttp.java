package uk.gov.gds.metrics.dropwizard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * HTTP/1.1 over a plain socket, so tests can send what real clients and attackers send
 * (repeated headers, raw non-ASCII bytes, any Host) without a client library tidying it up.
 */
public final class RawHttp {
    private RawHttp() {}

    /** A parsed response. */
    public record Response(int status, List<String[]> headers, byte[] body) {
        /** The values of header {@code name}, case-insensitively. */
        public List<String> headers(String name) {
            return headers.stream().filter(h -> h[0].equalsIgnoreCase(name)).map(h -> h[1]).toList();
        }

        public String header(String name) {
            List<String> values = headers(name);
            return values.isEmpty() ? null : values.get(0);
        }

        /** The body as text, gunzipped if the response says it is gzip. */
        public String text() throws IOException {
            byte[] bytes = body;
            if ("gzip".equals(header("Content-Encoding"))) {
                try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(body))) {
                    bytes = in.readAllBytes();
                }
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** Sends {@code method path} with {@code headerLines} (each {@code Name: value}, as raw bytes). */
    public static Response send(int port, String method, String path, byte[]... headerLines) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\n").getBytes(StandardCharsets.US_ASCII));
            boolean hasHost = false;
            for (byte[] line : headerLines) {
                hasHost |= new String(line, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT).startsWith("host:");
                out.write(line);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            if (!hasHost) {
                out.write(("Host: 127.0.0.1:" + port + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
            out.write("Connection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return parse(socket.getInputStream().readAllBytes(), method.equals("HEAD"));
        }
    }

    /** A header line from text. */
    public static byte[] h(String line) {
        return line.getBytes(StandardCharsets.UTF_8);
    }

    private static Response parse(byte[] raw, boolean head) throws IOException {
        int end = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
        String[] lines = new String(raw, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        List<String[]> headers = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.add(new String[] {lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim()});
        }
        byte[] body = Arrays.copyOfRange(raw, end + 4, raw.length);
        boolean chunked = headers.stream()
                .anyMatch(h -> h[0].equalsIgnoreCase("Transfer-Encoding") && h[1].equalsIgnoreCase("chunked"));
        return new Response(status, headers, chunked && !head ? dechunk(body) : body);
    }

    private static byte[] dechunk(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        while (pos < body.length) {
            int lineEnd = indexOf(body, "\r\n".getBytes(StandardCharsets.US_ASCII), pos);
            int size = Integer.parseInt(new String(body, pos, lineEnd - pos, StandardCharsets.US_ASCII).trim(), 16);
            if (size == 0) {
                break;
            }
            out.write(body, lineEnd + 2, size);
            pos = lineEnd + 2 + size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("malformed HTTP response");
    }
}
