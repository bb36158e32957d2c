package uk.gov.gds.metrics.example;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import uk.gov.gds.metrics.Counter;

/** The routes every example app has, so their request metrics line up in one query. */
@Path("/")
@Produces(MediaType.TEXT_PLAIN)
public final class ExampleResource {

    private final Counter userLookups = Counter.builder()
            .name("demo_user_lookups")
            .help("User pages served, by outcome.")
            .labelNames("outcome")
            .register();

    @GET
    public String index() {
        return "Hello from the Dropwizard example app\n";
    }

    /** Recorded with the template {@code /users/{id}} as {@code path}, never the id. */
    @GET
    @Path("users/{id}")
    public String user(@PathParam("id") long id) {
        userLookups.labelValues("found").inc();
        return "User " + id + "\n";
    }

    /** An unhandled exception: counted by class name and answered with 500. */
    @GET
    @Path("boom")
    public String boom() {
        throw new IllegalStateException("the example's failing route");
    }
}
