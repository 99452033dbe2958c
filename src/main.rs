//! The `tasks` server binary.
//!
//! `tasks` (or `tasks serve`) applies pending migrations and serves the app;
//! `tasks migrate` only applies the migrations and exits (for a deploy's migration job);
//! `tasks healthcheck` asks a running server's `/healthz` (for container health checks:
//! the runtime image has no shell or curl); `tasks lists` prints every list with its
//! number of todos and its link, for the operator (lists are found by their link only).

use std::{process::ExitCode, time::Duration};
use tasks::{
    lists::repo as lists,
    server::{
        config::Settings,
        db::Database,
        startup::{Application, StartupError, Stopped},
        telemetry,
    },
};

/// Rendering a page is mostly building strings: many small allocations, freed at the
/// end of the request. mimalloc serves those markedly faster than glibc's malloc
/// (docs/performance.md), without holding on to more memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: tasks [serve | migrate | healthcheck | lists]\n\
    \n  serve        apply pending migrations, then serve the app (default)\
    \n  migrate      apply pending migrations on the primary database and exit\
    \n  healthcheck  exit 0 if the server at LEPTOS_SITE_ADDR answers /healthz, else 1\
    \n  lists        print every list (todos, created, name, link) from the primary\
    \n\nConfiguration comes from environment variables: see the README.";

enum Command {
    Serve,
    Migrate,
    Lists,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => Command::Serve,
        ["migrate"] => Command::Migrate,
        ["lists"] => Command::Lists,
        ["healthcheck"] => return healthcheck(),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("tasks: unexpected arguments {args:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tasks: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(command));
    // Dropping a runtime waits for every worker thread; one blocked for good would hold
    // the exit forever. What was in flight has been given up on by now.
    runtime.shutdown_timeout(Duration::from_secs(1));
    // The log lines still queued are written before anything else is said.
    telemetry::flush();
    // One line on stderr per failure, never a panic with a backtrace.
    outcome.unwrap_or_else(|error| {
        eprintln!("tasks: {error}");
        ExitCode::FAILURE
    })
}

/// 0 when nothing was lost; 1 when requests in flight had to be dropped at the end of
/// the grace period. (The shutdown watchdog's own exit, when even that could not
/// happen, is `shutdown::EXIT_STUCK`.)
fn exit_status(stopped: Stopped) -> ExitCode {
    match stopped {
        Stopped::Drained => ExitCode::SUCCESS,
        // Only connections without a request (a client still sending its headers) were
        // left.
        Stopped::GraceExpired { dropped } if dropped.is_empty() => ExitCode::SUCCESS,
        Stopped::GraceExpired { dropped } => {
            eprintln!(
                "tasks: stopped with {} request(s) unfinished after the grace period",
                dropped.len()
            );
            ExitCode::FAILURE
        }
    }
}

/// Asks `/healthz` of the server this environment configures, within 2 seconds.
fn healthcheck() -> ExitCode {
    use std::{
        io::{Read, Write},
        net::{SocketAddr, TcpStream},
        time::Duration,
    };
    let configured = std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let Ok(mut addr) = configured.parse::<SocketAddr>() else {
        eprintln!("tasks: LEPTOS_SITE_ADDR {configured:?} is not an address");
        return ExitCode::FAILURE;
    };
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let timeout = Duration::from_secs(2);
    let answer = TcpStream::connect_timeout(&addr, timeout).and_then(|mut stream| {
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head)
    });
    match answer {
        Ok(head) if head.starts_with(b"HTTP/1.1 200") => ExitCode::SUCCESS,
        Ok(head) => {
            eprintln!(
                "tasks: {addr}/healthz answered {:?}",
                String::from_utf8_lossy(&head)
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("tasks: {addr}/healthz did not answer: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    match command {
        Command::Migrate => {
            Database::migrate_with_timeouts(&settings.database.primary, settings.migrations)
                .await
                .map_err(StartupError::Migrate)?;
            tracing::info!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Lists => {
            let db = Database::connect_lazy(&settings.database);
            // The links hold the capabilities: printed for the operator, never logged.
            let origin = settings.http.public_url.as_deref().unwrap_or("");
            println!("todos\tcreated\tname\tlink");
            for list in lists::all(&db.primary()).await? {
                println!(
                    "{}\t{}\t{}\t{origin}{}",
                    list.todos,
                    list.created_at.format("%Y-%m-%d"),
                    list.name.replace(['\t', '\n'], " "),
                    list.id.href()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => {
            let leptos_options = leptos::config::get_configuration(None)
                .map_err(|error| format!("invalid LEPTOS_* configuration: {error}"))?
                .leptos_options;
            let app = Application::build(&settings, leptos_options).await?;
            if let Some(addr) = app.metrics_addr() {
                tracing::info!("metrics on http://{addr}/metrics");
            }
            // Last: tests and scripts wait for this line.
            tracing::info!("listening on http://{}", app.local_addr()?);
            let stopped = app.run_until_stopped().await?;
            tracing::info!(?stopped, "stopped");
            Ok(exit_status(stopped))
        }
    }
}
