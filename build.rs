//! Records the git commit this binary is built from, for the `tasks_build_info` metric.
//! `TASKS_GIT_SHA` set by the builder wins (container builds have no `.git`).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=TASKS_GIT_SHA");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    let sha = std::env::var("TASKS_GIT_SHA").ok().or_else(|| {
        let output = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    });
    println!(
        "cargo:rustc-env=TASKS_GIT_SHA={}",
        sha.as_deref().unwrap_or("unknown")
    );
}
