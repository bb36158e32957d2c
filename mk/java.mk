# The Java binding (bindings-java): the jni crate, built by Maven into the jar, and its
# JUnit tests against a real Dropwizard app. `install` puts the jar in the local Maven
# repository, where the example app finds it.
#
# The local Maven repository lives in .build/m2 and is kept between runs; other parts
# that build Java (the examples) use $(MVN) so they share it.

TEST_TARGETS += test-java
BENCH_TARGETS += bench-java

MAVEN_REPO ?= $(BUILD)/m2
MVN = mvn -B -q -Dmaven.repo.local=$(MAVEN_REPO)

.PHONY: java-deps test-java bench-java
java-deps:
	scripts/apt-install openjdk-17-jdk-headless maven prometheus

# The jni crate is not a default member, so `make lint` does not reach it: lint it here.
# After the install, real apps of the other Dropwizard lines run on the installed jars:
# Dropwizard 3 on the `javax` jar, 2.x and 1.3 on the `dropwizard2` jar.
test-java: java-deps
	cargo clippy -p gds-metrics-java --all-targets -- -D warnings
	cd bindings-java && $(MVN) install
	cd bindings-java/compat/dropwizard3 && $(MVN) test
	cd bindings-java/compat/dropwizard2 && $(MVN) test
	cd bindings-java/compat/dropwizard2 && $(MVN) test -Ddropwizard.version=1.3.29 -Ddropwizard.bom=dropwizard-bom

# JMH, ours and client_java 1.x in the same run; writes .build/bench/java.md.
bench-java: java-deps
	cd bindings-java && $(MVN) test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath
	mkdir -p $(BUILD)/bench
	cd bindings-java && java -cp "target/test-classes:target/classes:$$(cat target/bench.classpath)" \
		uk.gov.gds.metrics.bench.BenchmarkReport $(BUILD)/bench/java.md
