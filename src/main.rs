//! The `bangui` binary: read the configuration, start logging, run the application.
//! Exit codes: 0 after a graceful stop, 2 for an invalid setting, 3 when another process owns
//! the database, 1 for any other start-up failure.

use bangui::config::Settings;
use bangui::startup::{Application, StartupError};

/// mimalloc instead of glibc's malloc. The export and the first sync hand millions of rows
/// from sqlx's SQLite worker threads to the runtime's threads: allocated on one thread, freed on
/// another. glibc serialises those frees on its arena locks (capping the arenas to keep the
/// resident memory down made that worse); mimalloc frees them without a shared lock and
/// returns freed pages to the system itself. Only the binary uses it (tests use the system
/// allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "usage: bangui [--config PATH]\nSettings come from the TOML file and BANGUI_* variables; see .env.example."
        );
        return std::process::ExitCode::SUCCESS;
    }
    let settings = match Settings::load(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bangui: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    bangui::telemetry::init(&settings.log);
    for w in &settings.warnings {
        tracing::warn!("{w}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bangui: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(e) => {
                tracing::error!(error = %e, "start-up failed");
                eprintln!("bangui: {e}");
                let code = if matches!(e, StartupError::Lock(_)) {
                    3
                } else {
                    1
                };
                return std::process::ExitCode::from(code);
            }
        };
        match app.run_until_stopped().await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bangui: server error: {e}");
                std::process::ExitCode::from(1)
            }
        }
    })
}
