//! `helpdesk`: settings -> logging -> command.

use clap::Parser;
use helpdesk_server::{
    cli,
    config::Settings,
    logging::{self, LogFormat},
};

#[tokio::main]
async fn main() {
    let _ = dotenvy::dotenv();
    match LogFormat::parse(std::env::var("LOG_FORMAT").ok().as_deref()) {
        Ok(format) => logging::init(format),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    let args = cli::Cli::parse();
    let result = match Settings::from_env() {
        Ok(settings) => cli::run(args, settings).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = result {
        log::error!("{e:#}");
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
