# Release artifacts: `make dist` builds into dist/ every artifact a tenant installs with no
# compiler (scripts/dist): the manylinux2014 abi3 wheel and the sdist, the x86_64-linux
# platform gem and the source gem, the jar under both Maven coordinates with sources,
# javadoc and poms, and the core crate; then checks each (scripts/dist-check: glibc 2.17
# floor, no debug info, sizes). `make test-dist` installs each in a clean environment with
# no Rust on PATH and runs it (scripts/dist-test).
#
#   make dist         build and check dist/
#   make test-dist    dist, then install and run each artifact (part of `make test`)
#
# Cost, measured on two busy cores: from cold caches the wheel takes about 5 CPU-minutes and
# the Ruby and Java libraries about 4 (zig keeps them in target/ and target/zigbuild/), the
# first Maven and pip downloads a few minutes; with warm caches `make test-dist` takes about
# 3 minutes (builds no-ops, Java packaging 20 s, Python suite 25 s, Ruby 5 s, Java apps 30 s).

TEST_TARGETS += test-dist

DIST_TOOLS_VENV := $(BUILD)/dist-tools/venv
# maturin drives zig (PyPI's ziglang) to link against glibc 2.17; cargo-zigbuild does the
# same for the Ruby and Java libraries; auditwheel and twine check the wheel and sdist.
DIST_PY_TOOLS := maturin==1.16.0 ziglang==0.17.1 cargo-zigbuild==0.24.1 auditwheel==6.8.2 twine==7.0.0

.PHONY: dist test-dist test-dist-source dist-deps

# Rebuilt when this file changes, so a new pin reaches an existing venv.
$(DIST_TOOLS_VENV)/.installed: mk/dist.mk
	scripts/apt-install python3 python3-venv binutils
	rm -rf $(DIST_TOOLS_VENV)
	python3 -m venv $(DIST_TOOLS_VENV)
	$(DIST_TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check $(DIST_PY_TOOLS)
	touch $@

dist-deps: $(DIST_TOOLS_VENV)/.installed ruby-deps java-deps

dist: dist-deps
	DIST_TOOLS=$(DIST_TOOLS_VENV)/bin MAVEN_REPO=$(MAVEN_REPO) scripts/dist

# s3s-fs (mk/s3.mk): the Python and Ruby suites' S3 tests start it.
test-dist: dist s3s-fs
	scripts/apt-install python3 python3-venv puma
	MAVEN_REPO=$(MAVEN_REPO) scripts/dist-test

# The sdist and the source gem built from dist/ with cargo, as pip and RubyGems do where no
# prebuilt package matches. Not in TEST_TARGETS: it compiles the core twice in release mode
# (see the cost above); run it before a release.
test-dist-source: dist
	scripts/apt-install python3 python3-venv
	scripts/dist-test source
