//! The `tasks` server binary.
//!
//! `tasks` (or `tasks serve`) applies pending migrations and serves the app;
//! `tasks migrate` only applies the migrations and exits (for a deploy's migration job).

use std::process::ExitCode;
use tasks::{
    config::Settings,
    db::Database,
    startup::{Application, StartupError},
    telemetry,
};

const USAGE: &str = "usage: tasks [serve | migrate]\n\
    \n  serve    apply pending migrations, then serve the app (default)\
    \n  migrate  apply pending migrations on the primary database and exit\
    \n\nConfiguration comes from environment variables: see the README.";

enum Command {
    Serve,
    Migrate,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => Command::Serve,
        ["migrate"] => Command::Migrate,
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("tasks: unexpected arguments {args:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // One line on stderr per failure, never a panic with a backtrace.
    match run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tasks: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    match command {
        Command::Migrate => {
            Database::connect_lazy(&settings.database)
                .migrate()
                .await
                .map_err(StartupError::Migrate)?;
            tracing::info!("migrations applied");
        }
        Command::Serve => {
            let leptos_options = leptos::config::get_configuration(None)
                .map_err(|error| format!("invalid LEPTOS_* configuration: {error}"))?
                .leptos_options;
            let app = Application::build(&settings, leptos_options).await?;
            tracing::info!("listening on http://{}", app.local_addr()?);
            app.run_until_stopped().await?;
            tracing::info!("stopped");
        }
    }
    Ok(())
}
