# frozen_string_literal: true

# Builds the native extension when the source gem is installed, which happens only where no
# platform gem matches (another CPU or OS, or a Ruby other than the one the platform gem was
# built for). cargo compiles this crate; its rb-sys reads this Ruby's RbConfig and headers.
# Without cargo the install stops here, with a message saying what to install: the gem is
# never installed without the extension that `require "gds_metrics"` needs.

require "rbconfig"

# The Rust the crate declares (its packaged manifest has the workspace's rust-version).
RUST_VERSION = File.read(File.join(__dir__, "Cargo.toml"))[/^rust-version = "([^"]+)"/, 1]
CARGO = ENV.fetch("CARGO", "cargo")
# Which platform gems the release has (`rake dist` writes it from the one it built).
PREBUILT_FILE = File.join(__dir__, "prebuilt.txt")
PREBUILT = File.exist?(PREBUILT_FILE) ? File.read(PREBUILT_FILE).strip : "no platform"

unless system(CARGO, "--version", out: File::NULL, err: File::NULL)
  abort <<~MESSAGE
    gds_metrics: this is the source gem, which builds its native extension when installed (the prebuilt
    gems of this release cover #{PREBUILT}; this is Ruby #{RUBY_VERSION} on #{RUBY_PLATFORM}). Building it needs
    Rust's cargo (Rust #{RUST_VERSION} or later) on PATH (https://rustup.rs), libclang and this Ruby's headers
    (Debian: libclang-dev ruby-dev). Install them and run the install again.
  MESSAGE
end

library = "gds_metrics_native.#{RbConfig::CONFIG["DLEXT"]}"
built = RbConfig::CONFIG["host_os"].match?(/darwin/) ? "libgds_metrics_native.dylib" : "libgds_metrics_native.so"
# RubyGems points sitearchdir at a scratch directory and copies what lands there into lib/.
install_dir = File.join(RbConfig::CONFIG["sitearchdir"], "gds_metrics")

File.write("Makefile", <<~MAKEFILE)
  TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)

  all: #{library}

  #{library}:
  \t#{CARGO} build --release --manifest-path Cargo.toml --target-dir "$(TARGET_DIR)"
  \tcp "$(TARGET_DIR)/release/#{built}" #{library}

  install: #{library}
  \tmkdir -p "#{install_dir}"
  \tcp #{library} "#{install_dir}/#{library}"

  clean:
  \trm -f #{library}

  .PHONY: all install clean
MAKEFILE
