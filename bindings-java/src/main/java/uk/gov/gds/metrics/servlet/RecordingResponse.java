package uk.gov.gds.metrics.servlet;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The app's response, which runs {@code record} once, just before anything of the response
 * can reach the client: the first body byte or character written (a write may commit the
 * response, and completes it once {@code Content-Length} bytes are written), a flush or
 * close, {@code sendError} or {@code sendRedirect}. Frameworks set the status before the
 * body (Jersey sets {@code Content-Length} and headers first, then the status, then
 * writes), so the status is final by then, and a scrape made once the client has its
 * response always sees the request.
 */
final class RecordingResponse extends HttpServletResponseWrapper {
    private final Runnable record;
    private final AtomicBoolean recorded = new AtomicBoolean();
    private ServletOutputStream stream;
    private PrintWriter writer;

    RecordingResponse(HttpServletResponse response, Runnable record) {
        super(response);
        this.record = record;
    }

    /** Runs the recording unless it has run already. */
    void recordOnce() {
        if (recorded.compareAndSet(false, true)) {
            record.run();
        }
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (stream == null) {
            stream = new RecordingStream(super.getOutputStream());
        }
        return stream;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (writer == null) {
            writer = new PrintWriter(new RecordingWriter(super.getWriter()));
        }
        return writer;
    }

    @Override
    public void flushBuffer() throws IOException {
        recordOnce();
        super.flushBuffer();
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        setStatus(sc);
        recordOnce();
        super.sendError(sc, msg);
    }

    @Override
    public void sendError(int sc) throws IOException {
        setStatus(sc);
        recordOnce();
        super.sendError(sc);
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        setStatus(SC_FOUND);
        recordOnce();
        super.sendRedirect(location);
    }

    /** The container's stream, recording before its first use. */
    private final class RecordingStream extends ServletOutputStream {
        private final ServletOutputStream out;

        RecordingStream(ServletOutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            recordOnce();
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            recordOnce();
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            recordOnce();
            out.flush();
        }

        @Override
        public void close() throws IOException {
            recordOnce();
            out.close();
        }

        @Override
        public boolean isReady() {
            return out.isReady();
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            out.setWriteListener(listener);
        }
    }

    /** The container's writer, recording before its first use. */
    private final class RecordingWriter extends Writer {
        private final Writer out;

        RecordingWriter(Writer out) {
            this.out = out;
        }

        @Override
        public void write(char[] cbuf, int off, int len) throws IOException {
            recordOnce();
            out.write(cbuf, off, len);
        }

        @Override
        public void write(String str, int off, int len) throws IOException {
            recordOnce();
            out.write(str, off, len);
        }

        @Override
        public void flush() throws IOException {
            recordOnce();
            out.flush();
        }

        @Override
        public void close() throws IOException {
            recordOnce();
            out.close();
        }
    }
}
