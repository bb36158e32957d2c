//! A real S3 server for tests: `s3s-fs` (installed by `make s3s-fs`, found through the
//! `S3S_FS` variable or at `.build/tools/s3s-fs-0.14.1/bin/s3s-fs`) on a free loopback port,
//! with SigV4 credentials, serving a temporary directory; stopped when dropped.
//!
//! Shared by the core's and the upload exporter's tests (included with `#[path]`).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const ACCESS_KEY: &str = "gds-metrics-test";
pub(crate) const SECRET_KEY: &str = "gds-metrics-test-secret";

pub(crate) struct S3Server {
    child: Child,
    pub addr: SocketAddr,
    pub root: tempfile::TempDir,
}

impl S3Server {
    /// Starts the server with one empty bucket per name in `buckets`.
    pub(crate) fn start(buckets: &[&str]) -> S3Server {
        let root = tempfile::tempdir().unwrap();
        for bucket in buckets {
            std::fs::create_dir(root.path().join(bucket)).unwrap();
        }
        let addr = free_loopback_addr();
        let binary = binary();
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &addr.port().to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{}` ({e}); install it with `make s3s-fs`",
                    binary.display()
                )
            });
        let server = S3Server { child, addr, root };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(self.addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not listen on {} within 30s",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The AWS variables a client needs to reach this server.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", format!("http://{}", self.addr)),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    /// Where the server keeps `bucket/key` on disk, to plant objects a client would refuse
    /// to write (or to check what a client wrote) without going through S3.
    pub(crate) fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.root.path().join(bucket).join(key)
    }

    /// Writes an object straight into the server's directory.
    pub(crate) fn plant(&self, bucket: &str, key: &str, contents: &[u8]) {
        let path = self.object_path(bucket, key);
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("S3S_FS") {
        return PathBuf::from(path);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").exists())
        .unwrap_or(Path::new("."))
        .join(".build/tools/s3s-fs-0.14.1/bin/s3s-fs")
}

fn free_loopback_addr() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap()
}
