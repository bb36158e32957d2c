package uk.gov.gds.metrics.example;

import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import uk.gov.gds.metrics.Counter;
import uk.gov.gds.metrics.Histogram;

/**
 * {@code /jobs/{queue}?seconds=S} runs a job that takes S seconds and records how long it
 * took in a native histogram (with classic buckets beside it, for Prometheus 2), with the
 * request's W3C {@code traceparent} as exemplar, and counts it in {@code app.jobs.done_total},
 * a UTF-8 name that Prometheus 3 stores as it is.
 */
@Path("/jobs")
@Produces(MediaType.APPLICATION_JSON)
public final class JobResource {

    /** A job may take up to this long, so a request cannot hold a thread for longer. */
    private static final double MAX_JOB_SECONDS = 5.0;

    private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}");

    private final Histogram jobDuration = Histogram.builder()
            .name("demo_job_duration_seconds")
            .help("Time a job took, by queue.")
            .labelNames("queue")
            .classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
            .nativeInitialSchema(5)
            .register();

    private final Counter jobsDone = Counter.builder()
            .name("app.jobs.done")
            .help("Jobs done, by queue.")
            .labelNames("queue")
            .register();

    /** Runs a job of {@code seconds} and records the time it took, traced by {@code traceparent}. */
    @GET
    @Path("{queue}")
    public Map<String, Object> run(
            @PathParam("queue") String queue,
            @QueryParam("seconds") @DefaultValue("0") double seconds,
            @HeaderParam("traceparent") String traceparent)
            throws InterruptedException {
        if (!(seconds >= 0 && seconds <= MAX_JOB_SECONDS)) {
            throw new WebApplicationException(400);
        }
        long started = System.nanoTime();
        Thread.sleep((long) (seconds * 1000), (int) ((seconds * 1e9) % 1_000_000));
        double took = (System.nanoTime() - started) / 1e9;
        record(queue, took, traceOf(traceparent));
        return Map.of("pid", ProcessHandle.current().pid(), "seconds", took);
    }

    private void record(String queue, double took, String[] exemplar) {
        if (exemplar == null) {
            jobDuration.labelValues(queue).observe(took);
            jobsDone.labelValues(queue).inc();
        } else {
            jobDuration.labelValues(queue).observeWithExemplar(took, exemplar);
            jobsDone.labelValues(queue).incWithExemplar(1, exemplar);
        }
    }

    /** The trace and span ids of a W3C {@code traceparent} header as exemplar labels, or null. */
    private static String[] traceOf(String traceparent) {
        if (traceparent == null) {
            return null;
        }
        Matcher match = TRACEPARENT.matcher(traceparent.strip());
        return match.matches() ? new String[] {"trace_id", match.group(1), "span_id", match.group(2)} : null;
    }
}
