//! A primary and its two replicas of a test's own, made by `scripts/db.sh` in another
//! directory and on other ports than the shared local servers: for tests that change
//! the servers themselves (crash the primary, promote a replica), which would break the
//! shared ones for every other test.
//!
//! Deleted again when dropped. A run that died before can leave one behind: it is
//! deleted before a new one is made.

use std::{collections::HashMap, net::TcpListener, path::PathBuf, process::Command};

pub struct OwnCluster {
    dir: PathBuf,
    ports: [u16; 3],
    /// What `db.sh env` prints for it: `DATABASE_URL`, `TEST_ADMIN_REPLICA_URL`…
    env: HashMap<String, String>,
}

impl OwnCluster {
    /// Makes and starts the cluster named `name` (blocking: a few seconds).
    pub fn up(name: &str) -> Self {
        let checkout = env!("CARGO_MANIFEST_DIR");
        let id: u32 = checkout.bytes().fold(2166136261, |hash, byte| {
            (hash ^ u32::from(byte)).wrapping_mul(16777619)
        });
        let mut cluster = Self {
            dir: PathBuf::from(format!("/var/tmp/tasks-pg-{name}-{id:08x}")),
            ports: free_ports(),
            env: HashMap::new(),
        };
        cluster.db_sh(&["destroy"]);
        let printed = cluster.db_sh(&["up"]);
        cluster.env = printed
            .lines()
            .filter_map(|line| line.strip_prefix("export ")?.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        cluster
    }

    /// A variable as `db.sh env` prints it for this cluster.
    pub fn env(&self, name: &str) -> String {
        self.env
            .get(name)
            .unwrap_or_else(|| panic!("db.sh env printed no {name}"))
            .clone()
    }

    /// Stops one server: `mode` "immediate" is a crash (no shutdown checkpoint, clients
    /// cut), "fast" a clean stop. Blocking.
    pub fn stop(&self, node: &str, mode: &str) {
        self.db_sh(&["stop", node, mode]);
    }

    /// Runs `scripts/db.sh` for this cluster; panics with its output if it fails.
    fn db_sh(&self, args: &[&str]) -> String {
        let output = self.command(args).output().expect("run scripts/db.sh");
        assert!(
            output.status.success(),
            "db.sh {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("db.sh prints text")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/db.sh"));
        command
            .args(args)
            .env("TASKS_PG_DIR", &self.dir)
            .env("TASKS_PG_PORT", self.ports[0].to_string())
            .env("TASKS_PG_REPLICA_PORT", self.ports[1].to_string())
            .env("TASKS_PG_DELAYED_PORT", self.ports[2].to_string());
        command
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.command(&["destroy"]).output();
    }
}

/// Three loopback ports free a moment ago (held together, so they differ).
fn free_ports() -> [u16; 3] {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    let port = |i: usize| listeners[i].local_addr().unwrap().port();
    [port(0), port(1), port(2)]
}
