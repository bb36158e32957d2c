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
	scripts/apt-install openjdk-17-jdk-headless maven prometheus valgrind

# The jni crate is not a default member, so `make lint` does not reach it: lint it here.
# After the install, real apps of the other Dropwizard lines run on the installed jars:
# Dropwizard 3 on the `javax` jar, 2.x and 1.3 on the `dropwizard2` jar.
test-java: java-deps
	cargo clippy -p gds-metrics-java --all-targets -- -D warnings
	cd bindings-java && $(MVN) install
	cd bindings-java/compat/dropwizard3 && $(MVN) test
	cd bindings-java/compat/dropwizard2 && $(MVN) test
	cd bindings-java/compat/dropwizard2 && $(MVN) test -Ddropwizard.version=1.3.29 -Ddropwizard.bom=dropwizard-bom

# JMH, ours and client_java 1.x in the same run; writes .build/bench/java.md. Then the
# single-threaded rows again as callgrind instruction counts (one JVM, both libraries),
# which other people's load on the machine cannot move; appended to the same section.
# Under valgrind the JIT's code needs --smc-check, and HotSpot's implicit null checks
# (a SIGSEGV it catches) crash, so both libraries run with explicit ones.
JAVA_BENCH_CP = target/test-classes:target/classes:$$(cat target/bench.classpath)
JAVA_CALLGRIND = $(BUILD)/bench/java-callgrind
bench-java: java-deps
	cd bindings-java && $(MVN) test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath
	mkdir -p $(BUILD)/bench
	cd bindings-java && java -cp "$(JAVA_BENCH_CP)" uk.gov.gds.metrics.bench.BenchmarkReport $(BUILD)/bench/java.md
	rm -rf $(JAVA_CALLGRIND) && mkdir -p $(JAVA_CALLGRIND)
	cd bindings-java && valgrind -q --tool=callgrind --smc-check=all-non-file \
		--callgrind-out-file=$(JAVA_CALLGRIND)/cg.%p \
		java -XX:+UnlockDiagnosticVMOptions -XX:-ImplicitNullChecks -Xbatch -XX:+UseSerialGC -cp "$(JAVA_BENCH_CP)" \
		uk.gov.gds.metrics.bench.InstructionCounts $(JAVA_CALLGRIND) $(JAVA_CALLGRIND)/table.md
	printf '\n' >> $(BUILD)/bench/java.md && cat $(JAVA_CALLGRIND)/table.md >> $(BUILD)/bench/java.md
