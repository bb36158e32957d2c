package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.EndpointFacts;
import uk.gov.gds.metrics.Format;
import uk.gov.gds.metrics.Registry;

/**
 * {@code requests.json}: each vector's facts reported through the native record the servlet
 * filter uses, and the labels the core recorded read back from a scrape.
 */
class RequestVectorsTest {
    @TestFactory
    Stream<DynamicTest> requestVectors() {
        return Vectors.tests("requests.json", RequestVectorsTest::run);
    }

    private static void run(JsonNode vector) {
        Registry registry = new Registry();
        Endpoint endpoint = Endpoint.create(registry, Vectors.config(vector.get("settings")));
        JsonNode facts = vector.get("facts");
        JsonNode exception = facts.get("exception");
        boolean raised = exception != null && !exception.isNull();
        EndpointFacts.record(endpoint, facts.get("method").asText(), facts.get("host").asText(),
                facts.get("raw_path").asText(), facts.get("router").asBoolean(),
                Vectors.textOrNull(facts.get("route")), facts.get("status").asInt(), 0.01,
                // Java reports an anonymous class's name as it is: empty.
                raised ? java.util.Objects.requireNonNullElse(Vectors.textOrNull(exception.get("class")), "") : null,
                raised ? Vectors.textOrNull(exception.get("ancestor")) : null,
                raised && exception.get("escaped").asBoolean());

        JsonNode expect = vector.get("expect");
        String text = registry.scrape(Format.TEXT);
        String request = "http_server_requests_total{method=\"" + expect.get("method").asText() + "\",host=\""
                + expect.get("host").asText() + "\",path=\"" + expect.get("path").asText() + "\",code=\""
                + expect.get("code").asText() + "\"} 1.0\n";
        assertTrue(text.contains(request), "expected " + request + " in\n" + text);
        String error = Vectors.textOrNull(expect.get("error"));
        if (error == null) {
            assertFalse(text.contains("http_server_exceptions_total{"), "no exception counted in\n" + text);
        } else {
            String line = "http_server_exceptions_total{error=\"" + error + "\"} 1.0\n";
            assertTrue(text.contains(line), "expected " + line + " in\n" + text);
        }
    }
}
