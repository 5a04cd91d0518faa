//! The command line: `autohub [serve]`, `autohub migrate up|down|status`,
//! `autohub create-admin`, `autohub export-schema`, `autohub seed-demo`. Errors are one line and a
//! non-zero exit.

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::accounts::service::{self, NewAccount};
use crate::app::{self, App, AppState};
use crate::config::{Config, LogFormat};

#[derive(Parser, Debug)]
#[command(
    name = "autohub",
    version,
    about = "AutoHub: the GraphQL API of a business that sells and services vehicles"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the server (the default).
    Serve,
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Make an administrator account, active at once.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// Taken from AUTOHUB_ADMIN_PASSWORD when not given, else asked for.
        #[arg(long, env = "AUTOHUB_ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Print the GraphQL schema (SDL).
    ExportSchema,
    /// Fills an empty database with a demo dealership: staff, customers, 200 units with photos,
    /// service histories, sales, service locations, a catalog and bookings. Refuses a database that
    /// has users.
    SeedDemo,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the newest applied migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
}

/// Runs the chosen command; the error is the one line to print.
pub async fn run(cli: Cli) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::ExportSchema = command {
        print!("{}", crate::graphql::schema::export_sdl());
        return Ok(());
    }
    let config = Config::from_env().map_err(|e| e.to_string())?;
    init_tracing(&config);
    match command {
        Command::Serve | Command::ExportSchema => serve(config).await,
        Command::Migrate { action } => migrate(config, action).await,
        Command::SeedDemo => seed_demo(config).await,
        Command::CreateAdmin {
            email,
            first_name,
            last_name,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => rpassword::prompt_password("Password for the new administrator: ")
                    .map_err(|e| format!("cannot read a password: {e}"))?,
            };
            let state = AppState::new(config).await?;
            let admin = service::create_admin(
                &state,
                NewAccount {
                    email,
                    password,
                    first_name,
                    last_name,
                    phone: None,
                },
            )
            .await
            .map_err(|e| match &e {
                crate::error::AppError::BadInput { field, .. } => {
                    format!("{field}: {}", e.message())
                }
                _ => e.message(),
            })?;
            println!("Administrator {} created ({}).", admin.email, admin.id);
            Ok(())
        }
    }
}

async fn seed_demo(config: Config) -> Result<(), String> {
    let state = AppState::new(config).await?;
    let seeded = crate::demo::seed(&state).await?;
    println!(
        "Demo dealership created: {} units, {} photos, {} service records, {} sales, {} bookings, {} offers, {} documents, {} payments.",
        seeded.units, seeded.photos, seeded.records, seeded.sales, seeded.bookings, seeded.offers, seeded.documents, seeded.payments
    );
    println!(
        "Sign in with any of these (password {}):",
        crate::demo::DEMO_PASSWORD
    );
    for (email, role) in &seeded.accounts {
        println!("  {:<9} {email}", format!("{role:?}").to_uppercase());
    }
    Ok(())
}

async fn serve(config: Config) -> Result<(), String> {
    if config.jwt_secret_generated {
        tracing::warn!("JWT_SECRET is not set: using a random secret for this run; tokens will not survive a restart");
    }
    let started = std::time::Instant::now();
    let app = App::build(config).await?;
    let address = app.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        %address,
        startup_ms = started.elapsed().as_millis() as u64,
        "AutoHub listening: GraphiQL at http://{address}/graphql"
    );
    app.run(app::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn migrate(config: Config, action: MigrateAction) -> Result<(), String> {
    let db = app::connect(&config, None).await?;
    let fail = |e: sea_orm::DbErr| format!("migration failed: {e}");
    let locked = |e: String| format!("migration failed: {e}");
    let url = &config.database_url;
    match action {
        MigrateAction::Up => {
            app::under_migration_lock(url, &db, Migrator::up(&db, None))
                .await
                .map_err(locked)?;
            println!("All migrations applied.");
        }
        MigrateAction::Down => {
            app::under_migration_lock(url, &db, Migrator::down(&db, Some(1)))
                .await
                .map_err(locked)?;
            println!("Rolled back the newest migration.");
        }
        MigrateAction::Status => {
            for m in Migrator::get_applied_migrations(&db).await.map_err(fail)? {
                println!("applied  {}", m.name());
            }
            for m in Migrator::get_pending_migrations(&db).await.map_err(fail)? {
                println!("pending  {}", m.name());
            }
        }
    }
    Ok(())
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.rust_log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
